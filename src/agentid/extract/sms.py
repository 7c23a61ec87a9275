"""SMS specifics: Android SMS Retriever hashes and WebOTP origin-bound lines.

The patterns are anchored and possessive where a run could be split two ways: linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RETRIEVER_PREFIX_RE = re.compile(r"^\s*+(?:<#>|\[#\])\s*+")
_APP_HASH_RE = re.compile(r"(?:^|\s)([A-Za-z0-9+/]{11})\s*+$")
_BARE_HASH_RE = re.compile(r"[A-Za-z0-9+/]{11}")
_WEBOTP_RE = re.compile(
    r"^@([A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?(?::\d{1,5})?)[ \t]++#([A-Za-z0-9\-]{1,32})"
    r"(?:[ \t]++@\S++)?[ \t]*+$"
)


@dataclass(frozen=True, slots=True)
class OriginBound:
    """The code of a WebOTP line (``@site.example #123456``): ``raw`` is how the line
    wrote it (``#123456``), ``origin`` the site it is bound to (``https://site.example``)."""

    code: str
    raw: str
    origin: str


@dataclass(frozen=True, slots=True)
class PreparedSms:
    """An SMS body without its machine-read markers, and the WebOTP code they held."""

    body: str
    origin_bound: OriginBound | None


def prepare(body: str) -> PreparedSms:
    """Remove the SMS Retriever marker/app hash and the WebOTP line from ``body``."""
    m = _RETRIEVER_PREFIX_RE.match(body)
    if m:
        body = body[m.end() :]
        hm = _APP_HASH_RE.search(body)
        if hm:
            body = body[: hm.start(1)].rstrip()
    else:
        # newer SMS Retriever messages may omit "<#>" but still end with the app hash
        lines = body.rstrip().split("\n")
        last = lines[-1].strip() if lines else ""
        if (
            len(lines) > 1
            and _BARE_HASH_RE.fullmatch(last)
            and any(c.islower() for c in last)
            and any(c.isupper() for c in last)
        ):
            body = "\n".join(lines[:-1])
    origin_bound = None
    lines = body.rstrip().split("\n")
    if lines:
        wm = _WEBOTP_RE.match(lines[-1].strip())
        if wm:
            host = wm.group(1)
            origin_bound = OriginBound(wm.group(2), "#" + wm.group(2), "https://" + host)
            body = "\n".join(lines[:-1])
    return PreparedSms(body, origin_bound)
