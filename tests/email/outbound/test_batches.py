"""A message's recipients go to the relay in calls of at most the relay's
``max_recipients``, and each recipient is settled by its own call's answer: an SMTP relay
on loopback (``?max_recipients=2``) scripted to refuse one transaction, and a local server
answering SES v2 SendEmail (at most 50 recipients a call) counting the calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Service
from tests.conftest import serving
from tests.providers.mail.ses_stub import MESSAGE_ID
from tests.providers.mail.ses_stub import SesStub
from tests.providers.mail.ses_stub import running_stub
from tests.providers.sink import Sink
from tests.service import eventually
from tests.service import hosted

SEND = "/projects/acme/email/send"


async def settled(service: Service, mid: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def done() -> bool:
        seen.update((await service.http.get(f"/projects/acme/email/messages/{mid}")).json())
        return seen["status"] in ("sent", "partial", "failed")

    await eventually(done, f"{mid} settled")
    return seen


async def send_to(service: Service, recipients: list[str]) -> str:
    await hosted(service, "acme", "acme.test")
    r = await service.http.post(
        SEND, json={"to": recipients[:1], "bcc": recipients[1:], "subject": "Hi", "text": "Hi."}
    )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


@pytest.fixture
def overrides(sink: Sink) -> dict[str, Any]:
    return {"relay_url": f"smtp://127.0.0.1:{sink.port}?max_recipients=2"}


async def test_smtp_batches_settle_each_recipient_from_its_own_transaction(
    service: Service, sink: Sink
) -> None:
    sink.data_script = [
        "250 2.0.0 Ok: queued as FIRST1",
        "554 5.7.1 this transaction is refused",
        "250 2.0.0 Ok: queued as THIRD3",
    ]
    addresses = [f"r{n}@vendor.example" for n in range(1, 6)]
    got = await settled(service, await send_to(service, addresses))
    assert [r.recipients for r in sink.received] == [addresses[:2], addresses[4:]]
    by = {r["address"]: r for r in got["recipients"]}
    assert [by[a]["status"] for a in addresses] == ["sent", "sent", "failed", "failed", "sent"]
    assert [by[a]["provider_message_id"] for a in addresses] == [
        "FIRST1", "FIRST1", None, None, "THIRD3"
    ]  # fmt: skip
    assert all("5.7.1" in by[a]["error"] for a in addresses[2:4])
    assert got["status"] == "partial"


@pytest.fixture
def ses() -> Iterator[SesStub]:
    with running_stub() as stub:
        stub.numbered = True
        yield stub


async def test_ses_takes_fifty_recipients_a_call(ses: SesStub, tmp_path: Path) -> None:
    addresses = sorted(f"r{n:02d}@vendor.example" for n in range(51))
    relay = f"ses+http://AKIDTEST:secret@{ses.endpoint}?region=us-east-1"
    async with serving(tmp_path / "data", "sqlite", relay_url=relay, warmup_start=500) as (
        service,
        _,
    ):
        got = await settled(service, await send_to(service, addresses))
    calls = [r.body["Destination"]["ToAddresses"] for r in ses.sends]
    assert calls == [addresses[:50], addresses[50:]]
    by = {r["address"]: r["provider_message_id"] for r in got["recipients"]}
    assert {by[a] for a in addresses[:50]} == {f"{MESSAGE_ID}-1"}
    assert by[addresses[50]] == f"{MESSAGE_ID}-2"
    assert got["status"] == "sent"
