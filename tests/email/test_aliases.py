"""POST/GET/DELETE /projects/{id}/email/aliases."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from urllib.parse import quote

from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import deliver
from tests.service import hosted
from tests.service import message
from tests.service import new_alias
from tests.service import smtp_rcpt


async def test_label_alias(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    r = await service.http.post("/projects/acme/email/aliases", json={"label": "signup"})
    assert r.status_code == 201, r.text
    alias = r.json()
    assert re.fullmatch(r"signup-[a-z0-9]{6}@acme\.test", alias["address"]), alias
    assert alias["label"] == "signup"
    assert alias["enabled"] is True
    assert alias["expires_at"] is None
    other = await new_alias(service, "acme", label="signup")
    assert other != alias["address"]


async def test_local_part_alias(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "beta", "beta.test")
    assert await new_alias(service, "acme", local_part="billing") == "billing@acme.test"
    r = await service.http.post("/projects/acme/email/aliases", json={"local_part": "Billing"})
    assert_error(r, 409, "conflict")
    # The primary address is taken too.
    r = await service.http.post("/projects/acme/email/aliases", json={"local_part": "agent"})
    assert_error(r, 409, "conflict")
    # Another project's domain is its own: the same local part is fine there.
    assert await new_alias(service, "beta", local_part="billing") == "billing@beta.test"
    r = await service.http.post("/projects/beta/email/aliases", json={"local_part": "billing"})
    assert_error(r, 409, "conflict")


async def test_bad_alias_requests(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for body in (
        {"label": "signup", "local_part": "billing"},
        {"label": "Sign Up"},
        {"label": "x" * 33},
        {"label": ""},
        {"local_part": ""},
        {"local_part": "a..b"},
        {"local_part": "has space"},
        {"local_part": "x" * 65},
        {"local_part": "a@b"},
        {"local_part": "a+b"},
        {"expires_at": "2030-01-01T00:00:00"},
        {"expires_at": "tomorrow"},
        {"label": 5},
        {"nickname": "x"},
    ):
        r = await service.http.post("/projects/acme/email/aliases", json=body)
        assert_error(r, 422, "validation_failed")
    r = await service.http.get("/projects/acme/email/aliases")
    assert r.json()["aliases"] == []


async def test_alias_needs_provisioned_email(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    r = await service.http.post("/projects/acme/email/aliases", json={"label": "x"})
    assert_error(r, 409, "conflict")
    r = await service.http.post("/projects/ghost/email/aliases", json={"label": "x"})
    assert_error(r, 404, "not_found")


async def test_expiring_alias(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    soon = datetime.now(UTC) + timedelta(days=1)
    r = await service.http.post(
        "/projects/acme/email/aliases", json={"label": "temp", "expires_at": soon.isoformat()}
    )
    assert r.status_code == 201, r.text
    assert abs(datetime.fromisoformat(r.json()["expires_at"]) - soon) < timedelta(seconds=1)
    past = datetime.now(UTC) - timedelta(minutes=1)
    r = await service.http.post(
        "/projects/acme/email/aliases", json={"label": "old", "expires_at": past.isoformat()}
    )
    assert r.status_code == 201, r.text
    code, reply = await smtp_rcpt(service, r.json()["address"])
    assert code == 550 and b"5.1.1" in reply


async def test_list_and_disable(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    first = await new_alias(service, "acme", label="one")
    second = await new_alias(service, "acme", local_part="two")
    r = await service.http.get("/projects/acme/email/aliases")
    assert r.status_code == 200, r.text
    assert [a["address"] for a in r.json()["aliases"]] == [first, second]

    entry = await deliver(service, "acme", second, message(second))
    assert entry["to"] == [second]

    r = await service.http.delete(f"/projects/acme/email/aliases/{second}")
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False
    code, reply = await smtp_rcpt(service, second)
    assert code == 550, reply
    assert b"5.1.1" in reply
    code, _ = await smtp_rcpt(service, first)
    assert code == 250
    listed = (await service.http.get("/projects/acme/email/aliases")).json()["aliases"]
    assert [(a["address"], a["enabled"]) for a in listed] == [(first, True), (second, False)]

    r = await service.http.delete("/projects/acme/email/aliases/nobody@acme.test")
    assert_error(r, 404, "not_found")
    r = await service.http.delete("/projects/acme/email/aliases/not-an-address")
    assert_error(r, 422)


async def test_unusual_local_parts_round_trip(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for local in ("a/b", "x.y", "o'brien", "q=1", "t~1", "{}"):
        address = await new_alias(service, "acme", local_part=local)
        assert address == f"{local}@acme.test"
        entry = await deliver(service, "acme", address, message(address))
        assert entry["to"] == [address]
        r = await service.http.get("/projects/acme/email/inbox", params={"to": address})
        assert [m["id"] for m in r.json()["messages"]] == [entry["id"]]
        r = await service.http.delete(f"/projects/acme/email/aliases/{quote(address, safe='@')}")
        assert r.status_code == 200, (address, r.text)
        assert r.json()["enabled"] is False
