"""Where a code candidate sits: alone in the whole text, or one item of a list of codes.

- A text that is nothing but a code (an SMS ``2715``, ``G-830829``) is that code.
- Three or more candidates of one shape, each alone on its line (after a list marker such
  as ``1.`` or ``-`` at most), on consecutive lines, are a list: recovery or backup codes
  to keep, not a code to type now. None of them is reported.
"""

from __future__ import annotations

import re

MIN_LIST = 3
_MARKER_RE = re.compile(r"[ \t]*+(?:\d{1,2}[.)]|[-•*·▪◦]|)[ \t]*+")
_DECOR = " \t[]()【】「」<>:：\"'*·-–—|"


def whole(t: str, s: int, e: int) -> bool:
    """Is the candidate at [s, e) all there is in ``t`` (bar decoration)?"""
    return not t[:s].strip(_DECOR + "\n") and not t[e:].strip(_DECOR + "\n")


def _listed(t: str, s: int, e: int, ls: int, le: int) -> bool:
    return _MARKER_RE.fullmatch(t, ls, s) is not None and not t[e:le].strip()


def _shape(raw: str) -> str:
    """ "9999-9999" for digits, "AAAA-AAAA" for letters and digits mixed: a list's items
    share it."""
    digits = not any(c.isalpha() for c in raw)
    return "".join(("9" if digits else "A") if c.isalnum() else c for c in raw)


def list_items(t: str, spots: list[tuple[int, int, int, int]]) -> set[int]:
    """The starts of the candidates (``(s, e, ls, le)``: their span and line, in order)
    that are items of a list of codes."""
    out: set[int] = set()
    run: list[int] = []
    last_le, last_shape = -2, ""
    for s, e, ls, le in spots:
        if not _listed(t, s, e, ls, le):
            continue
        shape = _shape(t[s:e])
        if run and shape == last_shape and not t[last_le:ls].strip():
            run.append(s)
        else:
            if len(run) >= MIN_LIST:
                out.update(run)
            run = [s]
        last_le, last_shape = le, shape
    if len(run) >= MIN_LIST:
        out.update(run)
    return out
