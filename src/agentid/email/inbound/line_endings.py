"""Bare CR, bare LF and NUL in a message body: found, or fixed, on a stream cut anywhere.

A CR not followed by LF, or an LF not preceded by CR, is the stuff of SMTP smuggling. The
DATA reader hands a message over in pieces, so both the check and the fix carry what a
piece's last byte means for the next one; for any way of cutting a body they give what
``has_bare_line_ending_or_nul`` and ``fix_line_endings`` give on the whole of it.
"""

from __future__ import annotations

import re

BARE_LINE_ENDING = re.compile(rb"\r(?!\n)|(?<!\r)\n")
NUL = b"\x00"
CR, LF, CRLF = b"\r", b"\n", b"\r\n"


def has_bare_line_ending_or_nul(raw: bytes) -> bool:
    """Fast path (C-level scans): true when the body holds a bare CR, bare LF or NUL."""
    if NUL in raw:
        return True
    if CR not in raw and LF not in raw:
        return False
    return raw.count(LF) != raw.count(CRLF) or raw.count(CR) != raw.count(CRLF)


def fix_line_endings(raw: bytes) -> bytes:
    """Bare CR or LF become CRLF; NULs go (the ``normalize`` mode)."""
    return BARE_LINE_ENDING.sub(CRLF, raw.replace(NUL, b""))


class LineEndings:
    """What a body fed in pieces holds: a NUL, a bare CR or LF (counted, C-level scans)."""

    def __init__(self) -> None:
        self.nul = False
        self._cr = self._lf = self._crlf = 0
        self._after_cr = False  # the last byte so far was a CR

    @property
    def bare(self) -> bool:
        return self._cr != self._crlf or self._lf != self._crlf

    def feed(self, piece: bytes) -> None:
        if not piece:
            return
        self.nul = self.nul or NUL in piece
        self._cr += piece.count(CR)
        self._lf += piece.count(LF)
        self._crlf += piece.count(CRLF) + (self._after_cr and piece[0] == LF[0])
        self._after_cr = piece[-1] == CR[0]


class LineEndingFixer:
    """``fix_line_endings`` for a body fed in pieces: a CR that ends a piece is held back
    until the next one shows whether an LF follows it."""

    def __init__(self) -> None:
        self._held_cr = False

    def feed(self, piece: bytes) -> bytes:
        piece = piece.replace(NUL, b"")
        if self._held_cr:
            piece = CR + piece
        self._held_cr = piece.endswith(CR)
        if self._held_cr:
            piece = piece[:-1]
        if not has_bare_line_ending_or_nul(piece):  # the usual case: nothing to fix
            return piece
        return BARE_LINE_ENDING.sub(CRLF, piece)

    def flush(self) -> bytes:
        """What is held back at the end of the body (a last bare CR, fixed)."""
        held, self._held_cr = self._held_cr, False
        return CRLF if held else b""
