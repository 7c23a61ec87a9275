"""A model of the HTML5 parser's stack of open elements (see :mod:`.nesting`).

It follows the rules that decide how deep the parser nests: implied ends (``p``, ``li``,
``dd``/``dt``, cells, rows, ``option``, headings, ``button``, ``select``), end tags and
their scopes, the list of active formatting elements (re-opened after an implied end,
three identical ones at most), SVG/MathML and their HTML integration points. Scope
questions are answered from per-name and per-category position lists, not by walking the
stack, so every step is O(1) amortized. Where a rule is not followed exactly, elements
are kept open: the model's depth is never lower than the parser's.
"""

from __future__ import annotations

import re
from bisect import bisect_left

_WS = "\t\n\f\r "
_HTML_ENCODING_RE = re.compile(
    rf"""encoding[{_WS}]*+=[{_WS}]*+["']?(?:text/html|application/xhtml\+xml)["'{_WS}/>]""",
    re.IGNORECASE,
)

VOID = frozenset(
    {
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image",
        "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
    }
)  # fmt: skip
NOT_PUSHED = frozenset({"html", "head", "body"})
RAW = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"}
)
FORMATTING = frozenset(
    {
        "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong",
        "tt", "u",
    }
)  # fmt: skip
_MARKERS = frozenset({"applet", "caption", "marquee", "object", "td", "th", "template"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
CLOSES_P = _HEADINGS | {
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu",
    "nav", "ol", "p", "search", "section", "summary", "ul", "pre", "listing", "form",
    "li", "dd", "dt",
}  # fmt: skip
_SPECIAL = frozenset(
    {
        "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound",
        "blockquote", "body", "br", "button", "caption", "center", "col", "colgroup", "dd",
        "details", "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure",
        "footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head",
        "header", "hgroup", "hr", "html", "iframe", "img", "input", "keygen", "li", "link",
        "listing", "main", "marquee", "menu", "meta", "nav", "noembed", "noframes", "noscript",
        "object", "ol", "p", "param", "plaintext", "pre", "script", "search", "section",
        "select", "source", "style", "summary", "table", "tbody", "td", "template", "textarea",
        "tfoot", "th", "thead", "title", "tr", "track", "ul", "wbr", "xmp", "mi", "mo", "mn",
        "ms", "mtext", "annotation-xml", "foreignobject", "desc",
    }
)  # fmt: skip
# end tags that close their element when it is in scope (other end tags stop at any
# special element)
_SCOPED_ENDS = frozenset(
    {
        "address", "article", "aside", "blockquote", "button", "center", "details", "dialog",
        "dir", "div", "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup",
        "listing", "main", "menu", "nav", "ol", "pre", "search", "section", "summary", "ul",
        "applet", "marquee", "object", "dd", "dt", "select",
    }
)  # fmt: skip
_SCOPE = frozenset(
    {
        "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "mi",
        "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc", "title",
        "select",  # (lexbor, since the HTML spec let <select> hold any content)
    }
)  # fmt: skip
TABLE_TAGS = frozenset({"table", "tbody", "thead", "tfoot", "tr", "td", "th"})
TABLE_PARTS = (TABLE_TAGS - {"table"}) | {"caption", "colgroup"}
_ROW_GROUPS = frozenset({"tbody", "thead", "tfoot"})
# HTML start tags that end SVG/MathML content; elements whose content is HTML again
BREAKOUT = frozenset(
    {
        "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em",
        "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing",
        "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong",
        "strike", "sub", "sup", "table", "tt", "u", "ul", "var",
    }
)  # fmt: skip
FOREIGN = frozenset({"svg", "math"})
_SVG_INTEGRATION = frozenset({"foreignobject", "desc", "title"})
_MATH_TEXT = frozenset({"mi", "mo", "mn", "ms", "mtext"})
# scope questions are answered from position lists (O(1)) instead of walking the stack
_CATEGORIES: dict[str, frozenset[str]] = {
    "scope": _SCOPE,
    "button": _SCOPE | {"button"},
    "list": _SCOPE | {"ol", "ul"},
    "table": frozenset({"html", "table", "template"}),
    "special": _SPECIAL,
    "li_stop": _SPECIAL - {"address", "div", "p", "li"},
    "dd_stop": _SPECIAL - {"address", "div", "p", "dd", "dt"},
    "headings": _HEADINGS,
    "context": TABLE_TAGS | {"caption"},
}
_CATS_OF = {
    name: tuple(cat for cat, names in _CATEGORIES.items() if name in names)
    for names in _CATEGORIES.values()
    for name in names
}
HTML, SVG, MATH = 0, 1, 2


class _Level:
    """The active formatting elements after the last marker (``td``, ``object``...)."""

    __slots__ = ("by_key", "by_name", "entries", "pending")

    def __init__(self) -> None:
        self.entries: list[int] = []  # in order
        self.by_name: dict[str, list[int]] = {}
        self.by_key: dict[tuple[str, str], list[int]] = {}  # (name, attributes)
        self.pending = 0  # entries closed implicitly, which the parser re-opens


class Model:
    """The parser's stack of open elements, and its list of active formatting elements."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.ids: list[int] = []  # formatting entry, else -1
        self.ns: list[int] = []
        # positions: of each name, of each category, of formatting elements, of SVG/MathML
        # elements, of those that are not HTML integration points either
        self.by_name: dict[str, list[int]] = {}
        self.by_cat: dict[str, list[int]] = {cat: [] for cat in _CATEGORIES}
        self.cat_lists = {
            name: tuple(self.by_cat[cat] for cat in cats) for name, cats in _CATS_OF.items()
        }
        self.formatting_at: list[int] = []
        self.non_html_at: list[int] = []
        self.foreign_at: list[int] = []
        self.levels = [_Level()]
        self.keys: list[tuple[str, str]] = []  # entry -> (name, attributes)
        self.open: dict[int, int] = {}  # entry -> the position of its element
        self.removed: set[int] = set()

    @property
    def depth(self) -> int:
        return len(self.names)

    @property
    def pending(self) -> int:
        return self.levels[-1].pending

    def last(self, name: str) -> int:
        positions = self.by_name.get(name)
        return positions[-1] if positions else -1

    def last_cat(self, cat: str) -> int:
        positions = self.by_cat[cat]
        return positions[-1] if positions else -1

    def top(self) -> str:
        return self.names[-1] if self.names else ""

    def foreign_rules(self, name: str | None) -> bool:
        """Does a start tag ``name`` (None: text) go by the SVG/MathML rules here?"""
        if not self.ns or self.ns[-1] == HTML:
            return False
        if self.ns[-1] == MATH and self.names[-1] in _MATH_TEXT:
            return name in ("mglyph", "malignmark")
        if self.names[-1] == "annotation-xml" and name == "svg":
            return False
        return self.foreign_at[-1] == len(self.names) - 1  # else an HTML integration point

    def push(self, name: str, ns: int = HTML, attrs: str = "", entry: int = -1) -> None:
        pos = len(self.names)
        self.names.append(name)
        self.ns.append(ns)
        positions = self.by_name.get(name)
        if positions is None:
            self.by_name[name] = [pos]
        else:
            positions.append(pos)
        for positions in self.cat_lists.get(name, ()):
            positions.append(pos)
        if ns != HTML:
            self.non_html_at.append(pos)
            if not (
                (ns == SVG and name in _SVG_INTEGRATION)
                or (ns == MATH and name in _MATH_TEXT)
                or (ns == MATH and name == "annotation-xml" and _HTML_ENCODING_RE.search(attrs))
            ):
                self.foreign_at.append(pos)
        elif entry < 0 and name in FORMATTING:
            entry = self._add_entry(name, attrs)
        elif name in _MARKERS:
            self.levels.append(_Level())
        if entry >= 0:
            self.open[entry] = pos
            self.formatting_at.append(pos)
        self.ids.append(entry)

    def _add_entry(self, name: str, attrs: str) -> int:
        entry = len(self.keys)
        key = (name, attrs)
        self.keys.append(key)
        level = self.levels[-1]
        same = level.by_key.setdefault(key, [])
        if len(same) == 3:  # Noah's ark: three identical entries at most
            self._remove(level, same.pop(0))
        same.append(entry)
        level.entries.append(entry)
        level.by_name.setdefault(name, []).append(entry)
        return entry

    def _remove(self, level: _Level, entry: int) -> None:
        level.entries.remove(entry)
        self.removed.add(entry)
        if self.open.pop(entry, -1) < 0:
            level.pending -= 1

    def pop_to(self, depth: int) -> None:
        """Pop elements until ``depth`` remain."""
        names, ids, ns, by_name, cat_lists = (
            self.names, self.ids, self.ns, self.by_name, self.cat_lists
        )  # fmt: skip
        while len(names) > depth:
            name = names.pop()
            entry = ids.pop()
            by_name[name].pop()
            for positions in cat_lists.get(name, ()):
                positions.pop()
            if ns.pop() != HTML:
                self.non_html_at.pop()
                if self.foreign_at and self.foreign_at[-1] == len(names):
                    self.foreign_at.pop()
            elif entry >= 0:
                self.formatting_at.pop()
                if self.open.pop(entry, -1) >= 0:
                    self.levels[-1].pending += 1
            elif name in _MARKERS and len(self.levels) > 1:
                self.levels.pop()

    def pending_after(self, depth: int) -> int:
        """At most how many elements wait to be re-opened once ``depth`` elements remain."""
        popped = len(self.formatting_at) - bisect_left(self.formatting_at, depth)
        return self.levels[-1].pending + popped

    def break_out_depth(self) -> int:
        """Depth after leaving SVG/MathML (for the nearest HTML element or integration point)."""
        depth, at = len(self.names), self.foreign_at
        i = len(at)
        while i and at[i - 1] == depth - 1:
            i -= 1
            depth -= 1
        return depth

    def above_html(self, pos: int) -> bool:
        """Are the element at ``pos`` and all above it SVG/MathML elements?"""
        at = self.non_html_at
        return len(at) - bisect_left(at, pos) == len(self.names) - pos

    def reopen(self) -> None:
        """Reconstruct the active formatting elements: re-open those closed implicitly."""
        level = self.levels[-1]
        if not level.pending:
            return
        entries = level.entries
        i = len(entries)
        while i > 0 and entries[i - 1] not in self.open:
            i -= 1
        for entry in entries[i:]:
            level.pending -= 1
            self.push(self.keys[entry][0], entry=entry)

    def end_formatting(self, name: str) -> bool:
        """``</b>`` and friends (adoption agency); False when ``name`` is not formatting here."""
        level = self.levels[-1]
        entries = level.by_name.get(name)
        while entries and entries[-1] in self.removed:
            entries.pop()
        if not entries:
            return False
        entry = entries[-1]
        pos = self.open.get(entry, -1)
        if pos >= 0:
            if pos <= self.last_cat("scope") or pos < self.last_cat("special"):
                return True  # out of scope, or a "furthest block" above: depth stays
            self.pop_to(pos)
        entries.pop()
        level.by_key[self.keys[entry]].remove(entry)
        self._remove(level, entry)
        return True


def _cell_target(model: Model, name: str) -> tuple[int, tuple[str, ...]] | None:
    """(depth to pop to, implied elements) for a table start tag; None: not in a table."""
    skipped = 0
    for pos in reversed(model.by_cat["context"]):
        ctx = model.names[pos]
        if ctx in ("td", "th", "caption") or (name == "tr" and ctx == "tr"):
            if name == "table" or skipped == 2:
                return None  # a table nested in a cell
            skipped += 1
            continue  # the open cell (or row) is closed first
        if name in ("td", "th"):
            if ctx == "tr":
                return pos + 1, ()
            return pos + 1, ("tr",) if ctx in _ROW_GROUPS else ("tbody", "tr")
        if name == "tr":
            return pos + 1, () if ctx in _ROW_GROUPS else ("tbody",)
        table = model.last("table")
        if table < 0:
            return None
        return (table, ()) if name == "table" else (table + 1, ())  # tbody, thead, tfoot
    return None


def start_target(model: Model, name: str) -> tuple[int, tuple[str, ...]]:
    """(depth after implied ends, implied elements) of an HTML start tag."""
    depth = model.depth
    if name in TABLE_TAGS:
        target = _cell_target(model, name)
        return target if target is not None else (depth, ())
    if name in CLOSES_P:
        if name == "li":
            pos = model.last("li")
            if pos > model.last_cat("li_stop"):
                depth = pos
        elif name in ("dd", "dt"):
            pos = max(model.last("dd"), model.last("dt"))
            if pos > model.last_cat("dd_stop"):
                depth = pos
        pos = model.last("p")
        if pos > model.last_cat("button"):
            depth = min(depth, pos)
        if name in _HEADINGS and depth == model.depth and model.top() in _HEADINGS:
            depth -= 1
        return depth, ()
    if name in ("option", "optgroup") and model.top() == "option":
        return depth - 1, ()
    if name == "button":
        pos = model.last("button")
        if pos >= 0 and pos >= model.last_cat("scope"):
            return pos, ()
    return depth, ()


def end_tag(model: Model, name: str) -> None:
    if model.ns and model.ns[-1] != HTML:
        if name in ("p", "br"):
            model.pop_to(model.break_out_depth())
        else:  # SVG/MathML: close the innermost foreign element of that name above any HTML
            pos = model.last(name)
            if pos >= 0 and model.above_html(pos):
                model.pop_to(pos)
                return
    if name in NOT_PUSHED or name == "br":
        return
    if name == "form":
        if model.top() == "form":
            model.pop_to(model.depth - 1)
        return
    if name in FORMATTING and model.end_formatting(name):
        return
    if name in _HEADINGS:
        pos = model.last_cat("headings")
        if pos >= 0 and pos > model.last_cat("scope"):
            model.pop_to(pos)
        return
    if name in TABLE_TAGS or name in ("caption", "template"):
        cat = "table"
    elif name == "p":
        cat = "button"
    elif name == "li":
        cat = "list"
    elif name in _SCOPED_ENDS:
        cat = "scope"
    else:
        cat = "special"  # any other end tag: closes unless a special element is in between
    pos = model.last(name)
    if pos >= 0 and pos >= model.last_cat(cat):
        model.pop_to(pos)
