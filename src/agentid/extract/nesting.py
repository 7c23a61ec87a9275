"""Cutting markup nested deeper than a limit out of HTML before lexbor parses it.

The HTML5 tree builder walks its stack of open elements (and its list of active
formatting elements) on most tags, so a document nested N deep costs O(N^2) to parse:
1 MB of ``<div>`` took 24 s. :func:`limit_nesting` tokenizes the markup once (linear:
every regex here is possessive or has disjoint alternatives), like the parser does (raw
text of ``<script>``, ``<style>``..., comments, CDATA, quoted attributes), and drops every
tag and text that would sit deeper than ``limit``, in two stages:

1. A quick bound (most documents): here an end tag only closes the element on top, so
   this stack is never lower than the parser's, bar what the parser adds by itself.
2. Where that bound says "maybe too deep", :class:`.html_stack.Model` follows the
   parser's rules (implied ends, re-opened formatting elements, SVG/MathML); where it
   does not follow them exactly, it keeps elements open and over-estimates depth.

A document that stays within the limit is returned unchanged (the same object).
"""

from __future__ import annotations

import re

from .html_stack import BREAKOUT
from .html_stack import CLOSES_P
from .html_stack import FOREIGN
from .html_stack import FORMATTING
from .html_stack import HTML
from .html_stack import MATH
from .html_stack import NOT_PUSHED
from .html_stack import RAW
from .html_stack import SVG
from .html_stack import TABLE_PARTS
from .html_stack import TABLE_TAGS
from .html_stack import VOID
from .html_stack import Model
from .html_stack import end_tag
from .html_stack import start_target

_WS = "\t\n\f\r "
# attributes up to the tag's end, as the tokenizer reads them; group "sc": "/" of "<x/>"
_ATTRS = (
    rf"""(?:[{_WS}]++|/(?!>)|[^{_WS}/>][^{_WS}/>=]*+"""
    rf"""(?:[{_WS}]*+=[{_WS}]*+(?:"[^"]*+"|'[^']*+'|(?!["'])[^{_WS}>]*+))?)*+(?P<sc>/?)>"""
)
_TAG_REST_RE = re.compile(_ATTRS)
_ATTRS_ANY = _ATTRS.replace("(?P<sc>/?)", "/?")
_RAW_TEXT = "style|title|textarea|xmp|iframe|noembed|noframes"
# the first stage's tokens: (raw, bail, close, name); comments... come out empty
_SCAN_RE = re.compile(
    rf"<!--(?:-?>|.*?--!?>|.*+)"
    rf"|<(?P<raw>{_RAW_TEXT})(?=[{_WS}/>]){_ATTRS_ANY}"
    rf"(?:.*?</(?P=raw)(?=[{_WS}/>]){_ATTRS_ANY}|.*+)"
    rf"|<(script|svg|math|frameset|plaintext)(?=[{_WS}/>])"
    rf"|<(/?)([A-Za-z][^{_WS}/>]*+){_ATTRS_ANY}"
    rf"|<(?:[!?]|/(?![A-Za-z]))[^>]*+>?"
    rf"|<[A-Za-z/].*+",
    re.DOTALL | re.IGNORECASE,
)
# a tag (name; rest is None when it never ends), a comment, CDATA, or another "<!", "<?",
# "</" that the tokenizer reads as a bogus comment
_TOKEN_RE = re.compile(
    rf"<(?:(?P<close>/?)(?P<name>[A-Za-z][^{_WS}/>]*+)(?P<rest>{_ATTRS})?"
    rf"|(?P<comment>!--)|(?P<cdata>!\[CDATA\[)|[!?]|/)"
)
_COMMENT_END_RE = re.compile(r"--!?>")
_FONT_BREAKOUT_RE = re.compile(rf"(?:^|[{_WS}/\"'])(?:color|face|size)[{_WS}=/>]", re.IGNORECASE)
_SCRIPT_TOKEN_RE = re.compile(rf"<!--(-*+>)?|-->|<(/?)script(?=[{_WS}/>])", re.IGNORECASE)

FEW_TAGS = 512
# more formatting elements than this waiting to be re-opened: re-opening them all at every
# text makes the parser (and the model) quadratic; such text is dropped
MAX_PENDING = 16


def limit_nesting(html: str, limit: int) -> str:
    """``html`` without the markup and text the parser would nest deeper than ``limit``.

    Documents of at most ``FEW_TAGS`` tags are returned as they are: however they nest,
    the parser is quick with them (under 5 ms).
    """
    if html.count("<") <= FEW_TAGS or _fits(html, limit):
        return html
    return _cut(html, limit)


def _fits(html: str, limit: int) -> bool:
    """Is the parser certainly not nesting deeper than ``limit``? (Fast; most documents.)

    Here an end tag pops only the element on top, so this stack is never lower than the
    parser's, except for what the parser adds by itself: formatting elements re-opened
    (at most the formatting start tags not ended yet) and implied ``tbody``, ``tr``,
    ``colgroup`` (at most three per open table). Scripts, SVG/MathML and framesets change
    how the markup is read: those documents go to the model.
    """
    stack: list[str] = []
    top = ""
    formatting: dict[str, int] = {}
    unended = tables = 0
    for _, bail, close, raw_name in _SCAN_RE.findall(html):
        if not raw_name:
            if bail:
                return False
            continue
        name = raw_name.lower()
        if close:
            if name in FORMATTING and formatting.get(name, 0) > 0:
                formatting[name] -= 1
                unended -= 1
            if name == top:
                stack.pop()
                top = stack[-1] if stack else ""
                if name == "table":
                    tables -= 1
            continue
        if name in VOID or name in NOT_PUSHED:
            continue
        stack.append(name)
        top = name
        if name in FORMATTING:
            formatting[name] = formatting.get(name, 0) + 1
            unended += 1
        elif name == "table":
            tables += 1
        if len(stack) + unended + 3 * tables > limit:
            return False
    return True


def _cut(html: str, limit: int) -> str:
    """``html`` with what the model puts deeper than ``limit`` cut out."""
    model = Model()
    names, levels = model.names, model.levels
    kept: list[str] = []
    keep_from = 0  # start of the run of input being kept; -1 while dropping
    dropped: list[str] = []  # names opened in the subtree being dropped (matched naively)
    open_dropped: dict[str, int] = {}
    pos, n = 0, len(html)
    while pos < n:
        m = _TOKEN_RE.search(html, pos)
        start = m.start() if m else n
        if start > pos and not dropped:  # text
            pending = levels[-1].pending
            if len(names) + pending >= limit or pending > MAX_PENDING:
                if keep_from >= 0:
                    kept.append(html[keep_from:pos])
                    keep_from = -1
            else:
                if keep_from < 0:
                    keep_from = pos
                if pending and not model.foreign_rules(None):
                    model.reopen()
        if m is None:
            break
        raw_name = m.group("name")
        attrs = m.group("rest")
        if raw_name is None:  # comment, CDATA, doctype, bogus comment
            end = _comment_end(html, m, bool(names) and model.ns[-1] != HTML)
            keeps = not dropped and len(names) < limit
        elif attrs is None:  # an unterminated tag swallows the rest of the document
            end, keeps = n, not dropped and len(names) < limit
        else:
            end = m.end()
            name = raw_name.lower()
            action = _tag(model, m, name, attrs, limit, dropped, open_dropped)
            keeps = action in (_KEEP, _KEEP_RAW)
            if action in (_KEEP_RAW, _DROP_RAW):
                end = _raw_end(html, name, end)
        if keeps:
            if keep_from < 0:
                keep_from = start
        elif keep_from >= 0:
            kept.append(html[keep_from:start])
            keep_from = -1
        pos = end
    if keep_from == 0:
        return html
    if keep_from > 0:
        kept.append(html[keep_from:])
    return "".join(kept)


_DROP, _KEEP, _DROP_RAW, _KEEP_RAW = range(4)  # *RAW: raw text follows the tag


def _tag(
    model: Model,
    m: re.Match[str],
    name: str,
    attrs: str,
    limit: int,
    dropped: list[str],
    open_dropped: dict[str, int],
) -> int:
    """Apply one tag to the model; whether to keep or drop it."""
    names = model.names
    if m.group("close"):
        if dropped:
            if open_dropped.get(name, 0) > 0:
                while dropped:
                    last = dropped.pop()
                    open_dropped[last] -= 1
                    if last == name:
                        break
                return _DROP
            if model.last(name) < 0:
                return _DROP
            dropped.clear()  # closes an element kept around the dropped subtree
            open_dropped.clear()
        end_tag(model, name)
        if name == "br" and not model.foreign_rules(None):  # </br> is read as <br>
            pending = model.levels[-1].pending
            if len(names) + pending >= limit or pending > MAX_PENDING:
                return _DROP
            model.reopen()
        return _KEEP
    self_closing = bool(m.group("sc"))
    raw = name in RAW
    if dropped:
        if name not in VOID and name not in NOT_PUSHED and not self_closing:
            return _drop_subtree(name, raw, dropped, open_dropped)
        return _DROP
    if model.foreign_rules(name):
        if name in BREAKOUT or (name == "font" and _FONT_BREAKOUT_RE.search(attrs)):
            depth = model.break_out_depth()  # then on as an HTML start tag
            pending = model.pending_after(depth)
            if depth + pending + 3 > limit or model.levels[-1].pending > MAX_PENDING:
                return _drop_subtree(name, False, dropped, open_dropped)
            model.pop_to(depth)
        else:  # an SVG/MathML element: no implied ends, no raw text, "<x/>" is empty
            if self_closing:
                return _KEEP
            if len(names) + 1 > limit:
                return _drop_subtree(name, False, dropped, open_dropped)
            model.push(name, ns=model.ns[-1], attrs=attrs)
            return _KEEP
    if name in ("select", "input"):
        select = model.last("select")
        if select >= 0 and select >= model.last_cat("scope"):
            model.pop_to(select)  # a select in scope is closed first
            if name == "select":
                return _KEEP  # (and does no more)
    if name in NOT_PUSHED or (name in TABLE_PARTS and model.last("table") < 0):
        return _KEEP  # merged into <html>/<body>, or ignored outside a table
    if name == "hr":  # closes a <p>, and is empty
        model.pop_to(start_target(model, "p")[0])
        return _KEEP
    pending = model.levels[-1].pending
    if name in VOID or (name in FOREIGN and self_closing):  # empty elements
        if len(names) + pending >= limit or pending > MAX_PENDING:
            return _DROP
        if pending:
            model.reopen()
        return _KEEP
    depth, implied = start_target(model, name)
    reopens = not implied and name not in CLOSES_P and name not in TABLE_TAGS
    after = model.pending_after(depth) if reopens else 0
    if depth + after + len(implied) + 1 > limit or (reopens and pending > MAX_PENDING):
        return _drop_subtree(name, raw, dropped, open_dropped)
    model.pop_to(depth)
    if reopens:
        model.reopen()
    for implied_name in implied:
        model.push(implied_name)
    model.push(name, ns=SVG if name == "svg" else MATH if name == "math" else HTML, attrs=attrs)
    if raw:
        model.pop_to(len(names) - 1)
        return _KEEP_RAW
    return _KEEP


def _drop_subtree(name: str, raw: bool, dropped: list[str], open_dropped: dict[str, int]) -> int:
    dropped.append(name)
    open_dropped[name] = open_dropped.get(name, 0) + 1
    return _DROP_RAW if raw else _DROP


def _comment_end(html: str, m: re.Match[str], foreign: bool) -> int:
    """End of the comment, doctype, CDATA section or bogus comment token ``m``."""
    start = m.start()
    if m.group("comment"):
        if html.startswith(">", start + 4):
            return start + 5
        if html.startswith("->", start + 4):
            return start + 6
        close = _COMMENT_END_RE.search(html, start + 4)
        return close.end() if close else len(html)
    if m.group("cdata") and foreign:
        end = html.find("]]>", start + 9)
        return end + 3 if end >= 0 else len(html)
    gt = html.find(">", start + 2)  # "</>" is dropped whole, like a bogus comment
    return gt + 1 if gt >= 0 else len(html)


_RAW_END_RE = {
    name: re.compile(rf"</{name}(?=[{_WS}/>])", re.IGNORECASE) for name in RAW - {"script"}
}


def _raw_end(html: str, name: str, end: int) -> int:
    """Where markup resumes after the raw text of ``<script>``, ``<style>``... ending at ``end``."""
    if name == "plaintext":
        return len(html)
    if name == "script":
        close = _script_end(html, end)
    else:
        m = _RAW_END_RE[name].search(html, end)
        close = m.end() if m else -1
    if close < 0:
        return len(html)
    rest = _TAG_REST_RE.match(html, close)
    return rest.end() if rest else len(html)


def _script_end(html: str, pos: int) -> int:
    """End of the ``</script`` that closes script data at ``pos`` (escapes followed), or -1."""
    escaped = double = False
    for m in _SCRIPT_TOKEN_RE.finditer(html, pos):
        seen = m.group(0)
        if seen.startswith("<!--"):
            escaped = escaped or not m.group(1)
        elif seen == "-->":
            if escaped:
                escaped = double = False
        elif m.group(2):  # </script
            if not double:
                return m.end()
            double = False
        elif escaped:  # <script inside an escaped comment
            double = True
    return -1
