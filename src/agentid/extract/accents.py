"""Keywords written without their diacritics, as SMS gateways send them.

The GSM-7 alphabet lacks most accented letters, so gateways strip them (``hasło`` →
``haslo``, ``şifre`` → ``sifre``, ``mã xác minh`` → ``ma xac minh``) or transliterate
(``ä`` → ``ae``, ``ß`` → ``ss``). Two tools:

- :func:`tolerant` rewrites a keyword pattern so that each accented letter also matches
  its plain form (the text itself is not changed: offsets stay as they are). A keyword
  shorter than ``MIN_LETTERS`` letters keeps its accents: without them it is another
  word (``mã`` → ``ma``, ``thẻ`` → ``the``).
- :func:`fold` strips diacritics from a text, for matching against folded patterns where
  offsets do not matter (link context).
"""

from __future__ import annotations

import unicodedata

from .alternations import class_end
from .alternations import split_top

MIN_LETTERS = 4
# letters whose plain form is not what Unicode decomposition gives
_SPECIAL = {"ł": "l", "đ": "d", "ı": "i", "ø": "o", "ħ": "h", "ŀ": "l", "ё": "е", "ŉ": "n"}
# German umlauts are also written as two letters ("Bestaetigung"), ß as "ss"
_TWO_LETTERS = {"ä": "(?:ä|ae?)", "ö": "(?:ö|oe?)", "ü": "(?:ü|ue?)", "ß": "(?:ß|ss?)"}


def _plain(c: str) -> str:
    """The plain lower-case letter ``c`` is written as without its diacritic ("" if none)."""
    if c in _SPECIAL:
        return _SPECIAL[c]
    if c.isascii() or not c.isalpha():
        return ""
    base = unicodedata.normalize("NFD", c)[0]
    return base if base != c and base.isascii() and base.isalpha() else ""


_RANGES = (range(0xC0, 0x250), range(0x1E00, 0x1F00), range(0x0450, 0x0452))
_PLAIN: dict[str, str] = {
    ch: p for r in _RANGES for cp in r if (p := _plain(ch := chr(cp)).lower()) and ch.islower()
}
_PLAIN.update(_SPECIAL)
_FOLD = str.maketrans({**_PLAIN, "ß": "ss", "æ": "ae", "œ": "oe"})


def fold(text: str) -> str:
    """``text`` (lower-cased) without diacritics: "vérifiez" → "verifiez"."""
    return text if text.isascii() else text.translate(_FOLD)


def _atoms(alt: str) -> list[str]:
    """The atoms of a pattern, in order: an escape ("\\b"), a class ("[oó]"), a character."""
    out: list[str] = []
    i = 0
    while i < len(alt):
        j = i + 2 if alt[i] == "\\" else class_end(alt, i) + 1 if alt[i] == "[" else i + 1
        out.append(alt[i:j])
        i = j
    return out


def _letters(atoms: list[str]) -> int:
    """Letters a pattern matches at least, roughly (a class counts one; "(?:" none)."""
    return sum(1 for a in atoms if a[0] == "[" or (len(a) == 1 and a.isalpha()))


def _rewrite_class(body: str) -> str:
    out: list[str] = []
    for k, c in enumerate(body):
        plain = _PLAIN.get(c, "")
        ranged = body[k + 1 : k + 2] == "-" or body[k - 1 : k] == "-"
        escaped = body[k - 1 : k] == "\\"
        out.append(c + plain if plain and plain not in body and not (ranged or escaped) else c)
    return "".join(out)


def _rewrite(atom: str) -> str:
    if atom[0] == "[":
        return "[" + _rewrite_class(atom[1:-1]) + "]"
    if atom in _TWO_LETTERS:
        return _TWO_LETTERS[atom]
    plain = _PLAIN.get(atom, "")
    return f"[{atom}{plain}]" if plain else atom


def _tolerant_alternative(alt: str) -> str:
    if alt.isascii():
        return alt
    atoms = _atoms(alt)
    return "".join(map(_rewrite, atoms)) if _letters(atoms) >= MIN_LETTERS else alt


def tolerant(pattern: str) -> str:
    """``pattern`` (lower-case) matching its words also without their diacritics.

    Each top-level alternative of at least ``MIN_LETTERS`` letters is rewritten: an
    accented letter becomes a class with its plain letter (``ł`` → ``[łl]``), ``ä``,
    ``ö``, ``ü``, ``ß`` also match ``ae``/``a``, ``oe``/``o``, ``ue``/``u``, ``ss``/``s``.
    """
    if pattern.isascii():
        return pattern
    return "|".join(map(_tolerant_alternative, split_top(pattern)))
