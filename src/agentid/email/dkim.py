"""DKIM keys: made per hosted domain, private half sealed at rest, public half for DNS."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agentid.crypto import SecretBox

KEY_BITS = 2048


@dataclass(frozen=True, slots=True)
class DKIMKey:
    sealed_private_key: bytes
    public_key_b64: str  # SubjectPublicKeyInfo DER, base64: the p= of the DNS record


def new_key(box: SecretBox) -> DKIMKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DKIMKey(box.seal(private_pem), base64.b64encode(public_der).decode())


def private_key_pem(box: SecretBox, sealed: bytes) -> bytes:
    """The PEM private key, for signing (outbound mail)."""
    return box.open(sealed)


def txt_value(public_key_b64: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key_b64}"


def public_key_of(box: SecretBox, sealed: bytes) -> str:
    """The base64 public half of a sealed private key (what its DNS record's p= must be)."""
    key = serialization.load_pem_private_key(box.open(sealed), password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()
