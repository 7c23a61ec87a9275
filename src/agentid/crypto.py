"""Secrets at rest: encrypted with a key derived from the service key, never stored plain."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from agentid.errors import AgentIDError


class SecretBox:
    """Authenticated encryption (Fernet) under a key derived from the service key with HKDF."""

    def __init__(self, service_key: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"agentid secrets at rest"
        ).derive(service_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken as exc:
            raise AgentIDError("a stored secret does not open with this service key") from exc


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
