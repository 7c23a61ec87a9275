"""Filters mean what they say: ``to=`` is the envelope, ``header_to=`` the sender's To/Cc;
and ``auth_results`` is agentid's own verdict, never a header the sender wrote."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select

from agentid.store.db import create_sync_engine
from agentid.store.tables import MessageRecipient
from tests.conftest import Service
from tests.email.inbound.authentication import unproven
from tests.email.inbound.authentication import verdict_of
from tests.service import deliver
from tests.service import hosted
from tests.service import message
from tests.service import new_alias

CODES = "/projects/acme/codes"


async def test_codes_to_is_the_envelope(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="old")
    r = await service.http.delete(f"/projects/acme/email/aliases/{alias}")
    assert r.status_code == 200
    # Sent to the primary address; the sender wrote the disabled alias in To.
    raw = message(alias, "Your code", "Your verification code is 724610")
    await deliver(service, "acme", "agent@acme.test", raw)
    r = await service.http.get(CODES, params={"to": alias, "consume": "true"})
    assert r.status_code == 200 and r.json()["codes"] == []  # not consumed through the alias
    r = await service.http.get(CODES, params={"header_to": alias})
    assert [c["value"] for c in r.json()["codes"]] == ["724610"]
    r = await service.http.get(CODES, params={"to": "agent@acme.test"})
    assert [c["value"] for c in r.json()["codes"]] == ["724610"]


async def test_header_addresses_add_no_recipient_rows(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    many = ", ".join(f"person{n}@elsewhere.example" for n in range(2000))
    raw = message("agent@acme.test", extra_headers=f"Cc: {many}\r\n")
    mid = (await deliver(service, "acme", "agent@acme.test", raw))["id"]
    engine = create_sync_engine(service.running.settings)
    try:
        count = await asyncio.to_thread(_recipient_rows, engine, mid)
    finally:
        engine.dispose()
    assert count == 1
    r = await service.http.get(
        "/projects/acme/email/inbox", params={"header_to": "person150@elsewhere.example"}
    )
    assert [m["id"] for m in r.json()["messages"]] == [mid]


def _recipient_rows(engine: Engine, mid: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(MessageRecipient.message_id == mid)
        return int(conn.execute(query).scalar_one())


async def test_forged_authentication_results_are_no_verdict(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    ours = service.running.settings.authserv()
    forged = (
        f"Authentication-Results: {ours}; spf=pass smtp.mailfrom=paypal.com; "
        "dkim=pass header.d=paypal.com\r\n"
        "Authentication-Results: mx.relay.example; spf=fail smtp.mailfrom=evil.example\r\n"
    )
    raw = message("agent@acme.test", "Your account", sender="PayPal <attacker@evil.example>")
    raw = raw.replace(b"Subject:", forged.encode() + b"Subject:", 1)
    mid = (await deliver(service, "acme", "agent@acme.test", raw))["id"]
    m = await verdict_of(service, "acme", mid)
    assert unproven(m["auth_results"])  # agentid's own: the claims of paypal.com are not it
    results = [v for n, v in m["headers"] if n.lower() == "authentication-results"]
    assert results[0].startswith(f"{ours}; spf=") and "=pass" not in results[0]
    assert results[1:] == ["mx.relay.example; spf=fail smtp.mailfrom=evil.example"]
    raw_back = (await service.http.get(f"/projects/acme/email/messages/{mid}/raw")).content
    assert raw_back == raw  # byte for byte, the forged header included
