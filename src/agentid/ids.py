"""Sortable ids (ULID layout): 48-bit millisecond time + 80 random bits, Crockford base32.

Ids made by one process are strictly increasing (the random part is incremented within a
millisecond), so an id is a cursor: ``before=`` pages back, ``after=`` asks for what is newer.
"""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import UTC
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
ID_LENGTH = 26
_RANDOM_BITS = 80


class _Monotonic:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_rand = 0
        # Ids are unguessable enough for cursors, not secrets: no syscall per id.
        self._random = random.Random(os.urandom(32))

    def next(self) -> int:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                rand = self._last_rand + 1
                if rand >= 1 << _RANDOM_BITS:  # overflow: borrow the next millisecond
                    ms, rand = ms + 1, self._random.getrandbits(_RANDOM_BITS - 1)
            else:
                rand = self._random.getrandbits(_RANDOM_BITS - 1)  # headroom to increment
            self._last_ms, self._last_rand = ms, rand
            return (ms << _RANDOM_BITS) | rand


_GENERATOR = _Monotonic()


def encode(value: int) -> str:
    out = []
    for _ in range(ID_LENGTH):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id() -> str:
    """A new id, greater than every id this process made before."""
    return encode(_GENERATOR.next())


def is_valid(value: str) -> bool:
    return len(value) == ID_LENGTH and all(c in _DECODE for c in value) and value[0] in "01234567"


def timestamp(value: str) -> datetime:
    """When an id was made."""
    n = 0
    for c in value[:10]:
        n = (n << 5) | _DECODE[c]
    return datetime.fromtimestamp(n / 1000, tz=UTC)
