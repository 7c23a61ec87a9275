"""How long a message says its code or link stays valid ("expires in 10 minutes").

A duration (a number, or "an"/"one"/"eine"..., and a unit) counts when a word of validity
sits next to it: "valid", "expires", "gültig", "caduca", "有効期限", "유효", "действует"...
("within" counts too, but only when no stronger word does: "enter it within 5 minutes").
Absolute times ("valid until 14:32") are not durations and give nothing.

Durations are looked for from the numbers of the text (the code finder has found where
they start already) and from the few words that say "one" before an hour or a day; only
then are validity words looked for, in a bounded window around each. A regex of all the
validity words run over the whole message would cost more than all the rest of it: ``re``
tries every alternative at every position.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .accents import tolerant
from .alternations import any_of

MAX_DURATIONS = 20  # durations looked at per text
_BEFORE = 56  # characters a validity word may stand before its duration ("expires in")
_AFTER = 48  # ... or after it ("10 Minuten gültig", "5分钟内有效")

_STRONG_RE = any_of(
    tolerant(
        r"valid|válid|expir|lasts? for|good for|gültig|läuft|verfällt|caduc|vence|vigencia"
        r"|valab|expire|scad|geldig|verlo|ważn|wygas|geçerli|süresi|действ|истека|истеч|годен"
        r"|дійсн|сплива|закінч|有效|过期|過期|失效|期限|有効|유효|만료|صالح|صلاحي|تنتهي|ينتهي"
        r"|मान्य|समाप्त|वैध|berlaku|kedaluwarsa|kadaluarsa|hiệu lực|hết hạn"
    )
)
_WEAK_RE = any_of(
    tolerant(
        r"within|in the next|innerhalb|dentro de|en los próximos|dans les|d'ici|entro|binnen"
        r"|w ciągu|içinde|в течение|протягом|以内|이내|안에|خلال|के भीतर|dalam|trong"
    )
)

_UNITS: tuple[tuple[int, str], ...] = (
    (
        1,
        r"s|secs?|seconds?|sekunden?|segundos?|secondes?|second[io]|seconden|sekund[ay]?"
        r"|saniye|секунд\w*|сек|秒|초|ثوان\w*|ثانية|सेकंड|detik|giây",
    ),
    (
        60,
        r"m|mins?\.?|minutes?|minuten?|minutos?|minuti|minut[ay]?|dakika|мин\w*|хв\w*"
        r"|分钟|分鐘|分間|分|분|دقائق|دقيقت\w*|دقيقة|मिनट|menit|phút",
    ),
    (
        3600,
        r"h|hrs?|hours?|stunden?|std\.?|horas?|heures?|ore|ora|uur|godzin[ayę]?|saat"
        r"|час\w*|годин\w*|小时|小時|時間|시간|ساعات|ساعة|ساعتين|घंटे|घंटा|jam|giờ|tiếng",
    ),
    (
        86400,
        r"d|days?|tagen?|tage|días?|dias?|jours?|giorn[oi]|dag(?:en)?|dni|dzień|doby|gün"
        r"|дн\w*|день|суток|天|日間|日|일|أيام|يومين|يوم|दिन|hari|ngày",
    ),
)
_UNIT_GROUPS = "|".join(f"(?P<u{i}>{units})" for i, (_, units) in enumerate(_UNITS))
# at the start of a number: "10 minutes", "24h", "30分"
_NUMBER_DURATION_RE = re.compile(
    tolerant(rf"(?<![0-9a-z.,:])(?P<n>[0-9]{{1,4}})[ \u00a0-]?(?:{_UNIT_GROUPS})(?![a-zа-яё])")
)
_DIGITS_RE = re.compile(r"[0-9]++")
# "an hour", "eine Stunde", "une heure", "one day" (begins with a space: quick to find)
_WORD_DURATION_RE = re.compile(
    tolerant(
        r" (?:an?|one|eine[mnr]?|ein|une?|una|uno|uma|um|een|jedn[aąey]|bir|один|одн\w*|satu"
        r"|một) (?:(?P<u2>hours?|stunde|heure|hora|ora|uur|godzin[ęy]|saat|час|годину|jam"
        r"|giờ)|(?P<u3>days?|tag|jour|d[ií]a|giorno|dag|dzień|gün|день|hari|ngày))\b"
    )
)


def _seconds(m: re.Match[str]) -> int:
    n = int(m.group("n")) if "n" in m.re.groupindex and m.group("n") else 1
    for i, (seconds, _) in enumerate(_UNITS):
        if f"u{i}" in m.re.groupindex and m.group(f"u{i}"):
            return n * seconds
    return 0


def _said(low: str, start: int, end: int) -> int:
    """2 when a validity word stands next to [start, end), 1 for "within", else 0."""
    lo, hi = max(0, start - _BEFORE), min(len(low), end + _AFTER)
    if _STRONG_RE.search(low, lo, hi):
        return 2
    return 1 if _WEAK_RE.search(low, lo, hi) else 0


def valid_for_seconds(low: str, numbers: Iterable[int] | None = None) -> int | None:
    """Seconds the lower-cased text ``low`` says its code or link is valid for.

    ``numbers``: where the runs of digits of ``low`` start (found here when not given).
    """
    if numbers is None:
        numbers = [m.start() for m in _DIGITS_RE.finditer(low)]
    matches: list[re.Match[str]] = []
    for k, pos in enumerate(numbers):
        if k == MAX_DURATIONS:
            break
        m = _NUMBER_DURATION_RE.match(low, pos)
        if m is not None:
            matches.append(m)
    if " " in low:
        matches.extend(_WORD_DURATION_RE.finditer(low))
    weak: int | None = None
    for m in matches:
        said = _said(low, m.start(), m.end())
        if said == 2:
            return _seconds(m)
        if said == 1 and weak is None:
            weak = _seconds(m)
    return weak
