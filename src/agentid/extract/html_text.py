"""HTML to text with block boundaries, hidden content removed, anchors recorded.

Uses selectolax (lexbor) to parse, after :mod:`.nesting` has cut out markup nested
deeper than the parser handles in linear time. The tree is walked iteratively (hostile
nesting cannot exhaust the Python stack), and content deeper than ``max_depth`` is
ignored. Every step is linear in the size of the document: per element, the work looks
at a bounded number of nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser
from selectolax.lexbor import LexborNode

from .nesting import limit_nesting

MAX_HTML_CHARS = 1_000_000
MAX_DEPTH = 256  # elements nested deeper than this (below <body>) are not rendered
_CELL_MAX_NODES = 64  # a cell holding one character is small; larger ones are not cells

_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
        "button", "label", "legend", "option",
    }
)  # fmt: skip
_SKIP = frozenset(
    {
        "head", "style", "script", "title", "meta", "link", "noscript", "template", "svg",
        "img", "object", "iframe", "embed", "audio", "video", "canvas", "map", "area", "math",
        "select", "textarea", "input", "base", "source", "track", "picture",
    }
)  # fmt: skip
_CELL_PARENTS = frozenset({"tr", "div"})
_NOT_SHOWN = _SKIP | {"-comment", "-doctype", "-document"}
# possessive quantifiers: a long run of spaces cannot be split between two "\s*"
_HIDDEN_STYLE = (
    r"(?:^|;)\s*+(?:display\s*+:\s*+none|visibility\s*+:\s*+hidden|mso-hide\s*+:\s*+all"
    r"|(?:max-height|font-size|opacity|max-width)\s*+:\s*+0++(?:\.0*+)?(?:px|em|rem|pt|%)?"
    r"\s*+(?:!\s*+important)?\s*+(?:;|$))"
)
_HIDDEN_STYLE_RE = re.compile(_HIDDEN_STYLE, re.IGNORECASE)
_HIDDEN_STYLE_LOWER_RE = re.compile(_HIDDEN_STYLE)  # on lower-cased ASCII: same, faster
_HIDING_PROPERTIES = (
    "display",
    "visibility",
    "mso-hide",
    "max-height",
    "font-size",
    "opacity",
    "max-width",
)  # the properties that pattern names; each match starts at "^" or ";" before one
_ZERO_VALUE_RE = re.compile(r":\s*+0")
_ZERO_HEIGHT_RE = re.compile(
    r"(?:^|;)\s*+height\s*+:\s*+0++(?:px)?\s*+(?:!\s*+important)?\s*+(?:;|$)"
)
# a whitespace run to collapse to one space: any but a lone space (which stays as it is;
# there is one between most words, and replacing each would cost a match)
_WS_RE = re.compile(r"[\t\n\r\f\v][ \t\n\r\f\v]*+| [ \t\n\r\f\v]++")
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


@dataclass(slots=True)
class Anchor:
    """An ``<a href>`` in rendered text: ``start``/``end`` are offsets of its text."""

    href: str
    start: int
    end: int


@dataclass(slots=True)
class Rendered:
    text: str
    anchors: tuple[Anchor, ...]


def _is_hidden(attrs: dict[str, str | None]) -> bool:
    """Do an element's attributes hide it?"""
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    return bool(style and _hides(style))


def _hides(style: str, styles: dict[str, bool] | None = None) -> bool:
    """Does a ``style`` attribute hide its element? ``styles``: answers so far (a message
    repeats the same few styles on many elements)."""
    if styles is None:
        return _style_hides(style)
    known = styles.get(style)
    if known is None:
        known = styles[style] = _style_hides(style)
    return known


def _style_hides(style: str) -> bool:
    if style.isascii():
        low = style.lower()
        # (most styles of a message differ, and hide nothing: what every hiding declaration
        # holds is looked for first)
        zero = ("max-" in low or "font-size" in low or "opacity" in low) and _ZERO_VALUE_RE.search(
            low
        )
        if not ("none" in low or "hidden" in low or "mso-hide" in low or zero):
            return False
        if _declares_hidden(low):
            return True
    else:
        if _HIDDEN_STYLE_RE.search(style):
            return True
        low = style.lower()
    return "overflow" in low and "hidden" in low and bool(_ZERO_HEIGHT_RE.search(low))


def _declares_hidden(low: str) -> bool:
    """``_HIDDEN_STYLE_LOWER_RE.search(low)``, tried only where a declaration starts with a
    property it names (the regex alone tries every position, at some cost each)."""
    for name in _HIDING_PROPERTIES:
        k = low.find(name)
        while k >= 0:
            j = k
            while j > 0 and low[j - 1].isspace():
                j -= 1
            if (j == 0 or low[j - 1] == ";") and _HIDDEN_STYLE_LOWER_RE.match(low, max(0, j - 1)):
                return True
            k = low.find(name, k + len(name))
    return False


def _tiny(img: LexborNode) -> bool:
    """An image of at most 2x2 px by its attributes: a tracking pixel, not something to see."""
    attrs = img.attributes
    for name in ("width", "height"):
        value = (attrs.get(name) or "").strip().lower().removesuffix("px")
        if value.isdigit() and int(value) <= 2:
            return True
    return False


def _pixel_only(anchor: LexborNode) -> bool:
    """A link whose only content is tracking pixels: nobody can see it, so it is not offered."""
    if anchor.text(deep=True).strip():
        return False
    images = [node for node in anchor.traverse() if node.tag == "img"]
    return bool(images) and all(_tiny(img) for img in images)


def _single_chars(node: LexborNode, levels: int) -> str | None:
    """If ``node``'s element children each hold one visible character, join them.

    Codes rendered one digit per table cell or per block element would otherwise be
    split over lines. ``levels``: how many levels of elements below ``node`` are within
    the depth limit (at least one).
    """
    elements: list[LexborNode] = []
    child = node.first_child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            if (child.text_content or "").strip():
                return None
        elif tag is not None and not tag.startswith("-"):
            elements.append(child)
            if len(elements) > 12:
                return None
        child = child.next
    if len(elements) < 4:
        return None
    chars: list[str] = []
    for child in elements:
        attrs = child.attributes
        if attrs and _is_hidden(attrs):
            continue
        text = _cell_text(child, levels)
        if text is None:
            return None
        t = _INVISIBLE_RE.sub("", text).strip()
        if not t:
            continue  # spacer cell between digits
        if len(t) != 1 or not t.isalnum():
            return None
        chars.append(t)
    if 4 <= len(chars) <= 10:
        return "".join(chars)
    return None


def _cell_text(cell: LexborNode, levels: int) -> str | None:
    """The text of ``cell``; None when it holds more than ``_CELL_MAX_NODES`` nodes (it is
    then not a one-character cell). Within the depth limit: the content of the cell if
    ``levels > 0``, that of its elements ``k`` levels down if ``k < levels``."""
    parts: list[str] = []
    budget = _CELL_MAX_NODES
    resume: list[tuple[LexborNode | None, int]] = []
    node = cell.first_child if levels > 0 else None
    level = 1
    while True:
        while node is None:
            if not resume:
                return "".join(parts)
            node, level = resume.pop()
        budget -= 1
        if budget < 0:
            return None
        text = node.text_content
        if text is not None:
            parts.append(text)
        elif level < levels:
            child = node.first_child
            if child is not None:
                resume.append((node.next, level))
                node, level = child, level + 1
                continue
        node = node.next


def render(html: str, max_depth: int = MAX_DEPTH) -> Rendered:
    """Render ``html`` to text; never raises (returns empty text on parser failure).

    Elements nested more than ``max_depth`` deep below ``<body>`` are ignored, with their
    content. The text carries no invisible characters and no carriage returns (it needs
    no cleaning).
    """
    try:
        html = limit_nesting(html[:MAX_HTML_CHARS], 2 * max_depth)
        return _render(html, max_depth)
    except Exception:  # a broken document yields nothing, never an error
        return Rendered("", ())


def _render(html: str, max_depth: int) -> Rendered:
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return Rendered("", ())
    # The text is written as parts; whitespace runs collapse to one space, none at the
    # start of a line, and block boundaries become one line break. ``visible`` counts the
    # parts that are not all whitespace. (Inlined: this loop runs for every node.)
    parts: list[str] = []
    length, last, visible = 0, "\n", 0
    anchors: list[Anchor] = []
    styles: dict[str, bool] = {}  # style attribute -> hides its element
    enter = False
    # open elements: (element, tag, text offset where an <a> starts or -1, visible then)
    stack: list[tuple[LexborNode, str, int, int]] = []
    node: LexborNode | None = root
    while node is not None:
        tag = node.tag or ""
        if tag == "-text":
            s = node.text_content
            if not s:
                pass
            elif s.isspace():
                if last != " " and last != "\n":
                    parts.append(" ")
                    length += 1
                    last = " "
            else:
                if not s.isascii():
                    s = _INVISIBLE_RE.sub("", s)
                if "  " in s or not s.isprintable():  # (else no run to collapse)
                    s = _WS_RE.sub(" ", s)
                if s and s[0] == " " and (last == " " or last == "\n"):
                    s = s[1:]
                if s:
                    parts.append(s)
                    length += len(s)
                    last = s[-1]
                    if not s.isspace():
                        visible += 1
        elif (
            tag in _NOT_SHOWN
            or tag[:1] == "-"
            or len(stack) > max_depth  # an element nested too deep: ignored
            or (
                (attrs := node.attributes)
                and ("hidden" in attrs or ((style := attrs.get("style")) and _hides(style, styles)))
            )
        ):
            pass
        elif tag == "br" or tag in _BLOCK:
            if last != "\n":
                if last == " ":  # no space before a line break
                    parts[-1] = parts[-1][:-1]
                    length -= 1
                parts.append("\n")
                length += 1
                last = "\n"
            if tag == "br":
                pass
            elif (
                tag in _CELL_PARENTS
                and len(stack) < max_depth
                and (joined := _single_chars(node, max_depth - len(stack)))
            ):
                parts.append(joined)
                parts.append("\n")
                length += len(joined) + 1
                visible += 1
            else:
                enter = True
        else:
            enter = True
        if enter:  # into the element's children; an anchor remembers where its text starts
            enter = False
            anchor = tag == "a"
            child = node.first_child
            if child is not None:
                stack.append((node, tag, length if anchor else -1, visible if anchor else 0))
                node = child
                continue
            if anchor:
                _anchor(anchors, node, length, length, visible, visible)
        # on to the next node in document order, closing the elements finished on the way
        while True:
            if node is root:
                node = None
                break
            following = node.next
            if following is not None:
                node = following
                break
            node, tag, start, seen = stack.pop()
            if tag in _BLOCK and last != "\n":
                if last == " ":
                    parts[-1] = parts[-1][:-1]
                    length -= 1
                parts.append("\n")
                length += 1
                last = "\n"
            elif start >= 0:
                _anchor(anchors, node, start, length, seen, visible)
    if last != "\n":
        if last == " ":
            parts[-1] = parts[-1][:-1]
        parts.append("\n")
    return Rendered("".join(parts), tuple(anchors))


def _anchor(
    anchors: list[Anchor], node: LexborNode, start: int, end: int, seen: int, visible: int
) -> None:
    """Record the link ``node`` whose text is [start, end) (``visible`` parts shown now,
    ``seen`` when it opened)."""
    href = (node.attributes.get("href") or "").strip()
    # text shown inside the link means it is not made of tracking pixels only
    if href and (visible > seen or not _pixel_only(node)):
        anchors.append(Anchor(href, start, end))
