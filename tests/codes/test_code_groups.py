"""One codes model: a code's source and group; consuming one consumes its group; expiry."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from agentid.ids import new_id
from agentid.store.tables import CodeRow
from agentid.store.tables import table_of
from agentid.times import utcnow
from tests.conftest import Service
from tests.service import deliver
from tests.service import hosted
from tests.service import message

CODES = "/projects/acme/codes"


async def store_codes(service: Service, *rows: dict[str, Any]) -> None:
    """Codes as a source that yields several candidates stores them (SMS and ambiguous
    mail come with later work; the store's shape is the contract)."""
    now = utcnow()
    made = [
        {"id": new_id(), "project_id": "acme", "source_type": "sms", "source_id": new_id(),
         "channel": "sms", "kind": "code", "confidence": 0.5, "sender": "+15550100",
         "recipients": ["+15550199"], "received_at": now, "used": False, "used_at": None,
         "authenticated": None, "expires_at": None, **row}
        for row in rows
    ]  # fmt: skip
    async with service.running.runtime.sessions.begin() as session:
        await session.execute(insert(table_of(CodeRow)), made)


async def values(service: Service, **params: Any) -> list[str]:
    r = await service.http.get(CODES, params=params)
    assert r.status_code == 200, r.text
    return [c["value"] for c in r.json()["codes"]]


async def test_a_code_names_its_source_and_group(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = message("agent@acme.test", body="Your verification code is 482913")
    entry = await deliver(service, "acme", "agent@acme.test", raw)
    (code,) = (await service.http.get(CODES)).json()["codes"]
    assert code["source"] == {"type": "email", "id": entry["id"]}
    assert code["message_id"] == entry["id"]  # deprecated alias of source.id
    assert code["group_id"] and code["expires_at"] is None
    assert code["authenticated"] in (None, False)  # no name server vouches for shop.example


async def test_consuming_one_candidate_consumes_its_group(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    group, source = new_id(), new_id()
    await store_codes(
        service,
        {"value": "111111", "group_id": group, "source_id": source, "confidence": 0.6},
        {"value": "222222", "group_id": group, "source_id": source, "confidence": 0.5},
        {"value": "333333", "group_id": new_id()},
    )
    assert sorted(await values(service, unused="true")) == ["111111", "222222", "333333"]
    taken = []
    while got := await values(service, consume="true", limit=1):
        taken += got
    assert len(taken) == 2 and "333333" in taken  # the group was handed out once
    assert {"111111", "222222"} & set(taken)
    assert await values(service, unused="true") == []


async def test_unexpired_leaves_out_codes_past_their_time(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    now = utcnow()
    await store_codes(
        service,
        {"value": "111111", "group_id": new_id(), "expires_at": now - timedelta(minutes=1)},
        {"value": "222222", "group_id": new_id(), "expires_at": now + timedelta(minutes=10)},
        {"value": "333333", "group_id": new_id()},
    )
    assert sorted(await values(service)) == ["111111", "222222", "333333"]
    assert sorted(await values(service, unexpired="true")) == ["222222", "333333"]


async def test_close_candidates_of_a_mail_are_one_ambiguous_group(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = message("agent@acme.test", body="Code for Alice: 123456. Code for Bob: 654321.")
    entry = await deliver(service, "acme", "agent@acme.test", raw)
    codes = (await service.http.get(CODES, params={"kind": "code"})).json()["codes"]
    assert {c["value"] for c in codes} == {"123456", "654321"}
    assert {c["status"] for c in codes} == {"ambiguous"}
    assert len({c["group_id"] for c in codes}) == 1
    assert {c["source"]["id"] for c in codes} == {entry["id"]}
    (taken,) = await values(service, consume="true", kind="code")
    assert taken in {"123456", "654321"}
    assert await values(service, unused="true", kind="code") == []  # the group went with it


async def test_a_clear_code_is_found(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = message("agent@acme.test", body="Your verification code is 482913")
    await deliver(service, "acme", "agent@acme.test", raw)
    (code,) = (await service.http.get(CODES)).json()["codes"]
    assert code["status"] == "found"


async def test_a_stated_validity_sets_expires_at_from_arrival(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    body = "Your verification code is 482913. It expires in 10 minutes."
    await deliver(service, "acme", "agent@acme.test", message("agent@acme.test", body=body))
    (code,) = (await service.http.get(CODES)).json()["codes"]
    received = datetime.fromisoformat(code["received_at"])
    assert datetime.fromisoformat(code["expires_at"]) - received == timedelta(minutes=10)
    assert await values(service, unexpired="true") == ["482913"]
