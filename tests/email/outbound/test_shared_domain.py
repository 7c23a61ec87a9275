"""A project on the shared domain sends from its shared address, signed with the operator's
shared-domain key; without that key it cannot send at all."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Service
from tests.providers.sink import Sink
from tests.service import assert_error
from tests.service import create_project
from tests.service import eventually
from tests.service import provision

SHARED = "agents.example"


def write_key(directory: Path) -> tuple[Path, bytes]:
    """A PEM private key file, and the DKIM TXT record of its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / "shared-dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, bytes]:
    return write_key(tmp_path)


@pytest.fixture
def overrides(sink: Sink, key: tuple[Path, bytes]) -> dict[str, Any]:
    return {
        "relay_url": f"smtp://127.0.0.1:{sink.port}",
        "shared_domain": SHARED,
        "shared_domain_dkim_key": key[0],
    }


async def test_shared_address_sends_signed_with_the_shared_key(
    service: Service, sink: Sink, key: tuple[Path, bytes]
) -> None:
    await create_project(service, "acme")
    address = (await provision(service, "acme"))["address"]
    assert address == f"acme@{SHARED}"
    body = {"to": ["bob@vendor.example"], "subject": "Hi", "text": "Hello."}
    other = await service.http.post(
        "/projects/acme/email/send", json=body | {"from": f"other@{SHARED}"}
    )
    assert_error(other, 403)
    r = await service.http.post("/projects/acme/email/send", json=body)
    assert r.status_code == 202, r.text

    def arrived() -> bool:
        return len(sink.received) == 1

    await eventually(arrived, "the message reached the relay")

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"agentid._domainkey.{SHARED}.".encode()
        return key[1]

    assert sink.received[0].sender == address
    assert dkim.verify(sink.received[0].data, dnsfunc=dnsfunc)


@pytest.mark.parametrize("overrides", [{"shared_domain": SHARED}])
async def test_without_the_shared_key_nothing_is_sent(service: Service) -> None:
    await create_project(service, "acme")
    await provision(service, "acme")
    r = await service.http.post(
        "/projects/acme/email/send", json={"to": ["bob@vendor.example"], "text": "Hello."}
    )
    said = assert_error(r, 403)["error"]["message"]
    assert "AGENTID_SHARED_DOMAIN_DKIM_KEY" in said
