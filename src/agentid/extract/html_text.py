"""HTML to text with block boundaries, hidden content removed, anchors recorded.

Uses selectolax (lexbor) to parse; the tree is walked iteratively so hostile nesting
cannot exhaust the Python stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

MAX_HTML_CHARS = 1_000_000

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
_HIDDEN_STYLE_RE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all"
    r"|(?:max-height|font-size|opacity|max-width)\s*:\s*0+(?:\.0*)?(?:px|em|rem|pt|%)?"
    r"\s*(?:!\s*important)?\s*(?:;|$))",
    re.IGNORECASE,
)
_ZERO_HEIGHT_RE = re.compile(r"(?:^|;)\s*height\s*:\s*0+(?:px)?\s*(?:!\s*important)?\s*(?:;|$)")
_WS_RE = re.compile(r"[ \t\n\r\f\v]+")
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


@dataclass(frozen=True, slots=True)
class Anchor:
    """An ``<a href>`` in rendered text: ``start``/``end`` are offsets of its text."""

    href: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    anchors: tuple[Anchor, ...]


def _is_hidden(node: LexborNode) -> bool:
    attrs = node.attributes
    if not attrs:
        return False
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    if not style:
        return False
    if _HIDDEN_STYLE_RE.search(style):
        return True
    low = style.lower()
    return "overflow" in low and "hidden" in low and bool(_ZERO_HEIGHT_RE.search(low))


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
    images = anchor.css("img")
    return bool(images) and all(_tiny(img) for img in images)


class _Writer:
    __slots__ = ("last", "length", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.last = "\n"

    def text(self, s: str) -> None:
        if not s or s.isspace():
            if s and self.last not in " \n":
                self.parts.append(" ")
                self.length += 1
                self.last = " "
            return
        if not s.isascii():
            s = _INVISIBLE_RE.sub("", s)
        s = _WS_RE.sub(" ", s)
        if not s:
            return
        if s[0] == " " and self.last in " \n":
            s = s[1:]
            if not s:
                return
        self.parts.append(s)
        self.length += len(s)
        self.last = s[-1]

    def newline(self) -> None:
        if self.last != "\n":
            if self.last == " ":
                # drop a trailing space before the line break
                self.parts[-1] = self.parts[-1][:-1]
                self.length -= 1
            self.parts.append("\n")
            self.length += 1
            self.last = "\n"

    def result(self) -> str:
        return "".join(self.parts)


def _single_chars(node: LexborNode, hidden: set[int]) -> str | None:
    """If ``node``'s element children each hold one visible character, join them.

    Codes rendered one digit per table cell or per block element would otherwise be
    split over lines.
    """
    chars: list[str] = []
    elements: list[LexborNode] = []
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            if (child.text_content or "").strip():
                return None
            continue
        if tag is None or tag.startswith("-"):
            continue
        elements.append(child)
        if len(elements) > 12:
            return None
    if len(elements) < 4:
        return None
    for child in elements:
        if child.mem_id in hidden:
            continue
        t = _INVISIBLE_RE.sub("", child.text(deep=True)).strip()
        if not t:
            continue  # spacer cell between digits
        if len(t) != 1 or not t.isalnum():
            return None
        chars.append(t)
    if 4 <= len(chars) <= 10:
        return "".join(chars)
    return None


def render(html: str) -> Rendered:
    """Render ``html`` to text; never raises (returns empty text on parser failure)."""
    try:
        return _render(html[:MAX_HTML_CHARS])
    except Exception:  # a broken document yields nothing, never an error
        return Rendered("", ())


def _render(html: str) -> Rendered:
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return Rendered("", ())
    # hidden elements, found with one CSS query instead of reading every node's attributes
    hidden = {n.mem_id for n in tree.css("[style], [hidden]") if _is_hidden(n)}
    out = _Writer()
    anchors: list[Anchor] = []
    # stack items: (node, closing, anchor start or -1)
    stack: list[tuple[LexborNode, bool, int]] = [(root, False, -1)]
    while stack:
        node, closing, astart = stack.pop()
        tag = node.tag or ""
        if closing:
            if tag in _BLOCK:
                out.newline()
            if astart >= 0:
                href = (node.attributes.get("href") or "").strip()
                if href:
                    anchors.append(Anchor(href, astart, out.length))
            continue
        if tag == "-text":
            out.text(node.text_content or "")
            continue
        if tag.startswith("-") or tag in _SKIP or (hidden and node.mem_id in hidden):
            continue
        if tag == "br":
            out.newline()
            continue
        if tag in _BLOCK:
            out.newline()
            joined = _single_chars(node, hidden) if tag in _CELL_PARENTS else None
            if joined is not None:
                out.text(joined)
                out.newline()
                continue
        start = -1
        if tag == "a" and not _pixel_only(node):
            start = out.length
        stack.append((node, True, start))
        children = list(node.iter(include_text=True))
        for child in reversed(children):
            stack.append((child, False, -1))
    out.newline()
    return Rendered(out.result(), tuple(anchors))
