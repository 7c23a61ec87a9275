"""Secrets at rest: encrypted with a key derived from the service key, never stored plain.

Key rotation: ``SecretBox(current, *previous)`` seals under the current service key
(``AGENTID_SECRET_KEY``) and opens what any of them sealed (``AGENTID_PREVIOUS_SECRET_KEYS``);
``agentid secrets rotate`` re-seals what the store holds, after which the previous keys
can go. Fingerprints (``fingerprint``) are keyed HMACs, so a fingerprint of a URL tells
nothing about the secret in it to whoever lacks the service key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from agentid.errors import AgentIDError

FINGERPRINT_HEX_DIGITS = 12


def _derive(service_key: str, purpose: bytes) -> bytes:
    """32 bytes for one ``purpose``, derived from a service key with HKDF-SHA256."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        service_key.encode()
    )


def _fernet(service_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(service_key, b"agentid secrets at rest")))


class SecretBox:
    """Authenticated encryption (Fernet) under keys derived from the service keys with HKDF:
    sealed always under ``service_key``, opened under it or any of ``previous_keys``."""

    def __init__(self, service_key: str, *previous_keys: str) -> None:
        keys = [service_key, *(key for key in previous_keys if key != service_key)]
        self._fernet = MultiFernet([_fernet(key) for key in keys])
        self._fingerprint_key = _derive(service_key, b"agentid fingerprints")

    def seal(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes, *, what: str | None = None) -> bytes:
        """``sealed`` opened under any key; ``what`` names it in the error when none does."""
        with _wrong_key(what):
            return self._fernet.decrypt(sealed)

    def reseal(self, sealed: bytes, *, what: str | None = None) -> bytes:
        """``sealed`` opened under any key and sealed again under the current one (``what``
        as in ``open``: ``agentid secrets rotate`` names the secret no key opens)."""
        with _wrong_key(what):
            return self._fernet.rotate(sealed)

    def fingerprint(self, data: bytes) -> str:
        """A short keyed fingerprint (HMAC-SHA256 under a key derived from the current
        service key): tells two values apart without revealing either."""
        digest = hmac.new(self._fingerprint_key, data, hashlib.sha256).hexdigest()
        return digest[:FINGERPRINT_HEX_DIGITS]


_WRONG_KEY = (
    "a stored secret does not open with AGENTID_SECRET_KEY nor any of"
    " AGENTID_PREVIOUS_SECRET_KEYS: set the key it was sealed with"
)


@contextmanager
def _wrong_key(what: str | None) -> Iterator[None]:
    try:
        yield
    except InvalidToken as exc:
        raise AgentIDError(_WRONG_KEY if what is None else f"{what}: {_WRONG_KEY}") from exc


_TOKEN_ALPHABET = string.ascii_letters + string.digits
_TOKEN_LENGTH = 43  # 43 base-62 characters carry 256 random bits


def new_token(prefix: str) -> str:
    """`prefix_secret`, the secret alphanumeric only: one double-click selects it, and
    the last `_` always starts it."""
    secret = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))
    return f"{prefix}_{secret}"


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is a safe lookup key."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
