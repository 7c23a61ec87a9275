"""Threads: which stored messages are one conversation, by their Message-IDs only.

A message's ``thread_id`` is the id of the thread's first message. A message whose
``In-Reply-To`` or ``References`` names the ``Message-ID`` of a message this project
already holds (received or sent) joins that message's thread; any other starts its own.
No subject guessing: "Re: Your order" from a stranger is not a reply to your order.

Message-IDs are compared exactly (RFC 5322: they are opaque) through ``key``, a fixed-size
digest, so an index holds them whatever their length.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from collections.abc import Sequence

_ID = re.compile(r"<([^<>\s]{1,998})>")
MAX_PARENTS = 50  # References of a long thread: the newest this many are enough


def ids_in(value: str | None) -> list[str]:
    """The ``<...>`` message ids in a header value, in order."""
    return [] if not value else [f"<{m}>" for m in _ID.findall(value)]


def key(message_id: str | None) -> str | None:
    """The index key of a Message-ID (its first ``<...>``), or None when it has none."""
    found = ids_in(message_id)
    return hashlib.sha256(found[0].encode()).hexdigest()[:32] if found else None


def parents(headers: Iterable[Sequence[str]]) -> list[str]:
    """Keys of the messages this one answers, nearest first: In-Reply-To, then References
    from the newest."""
    in_reply_to: list[str] = []
    references: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "in-reply-to":
            in_reply_to += ids_in(value)
        elif lower == "references":
            references += ids_in(value)
    wanted = [*in_reply_to, *reversed(references)]
    keys = [k for k in (key(i) for i in dict.fromkeys(wanted)) if k is not None]
    return keys[:MAX_PARENTS]
