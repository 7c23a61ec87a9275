"""GET /projects/{id}/codes: codes found in mail, filtered, long-polled, consumed once.

These need the real extractor (``agentid.extract.extract_email``): with the stand-in
that finds nothing they fail, by design.
"""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from tests.conftest import Service
from tests.service import assert_error
from tests.service import deliver
from tests.service import hosted
from tests.service import listening
from tests.service import message
from tests.service import new_alias
from tests.service import new_token
from tests.service import send

CODES = "/projects/acme/codes"
FIELDS = {
    "id",
    "value",
    "kind",
    "channel",
    "source",
    "message_id",
    "status",
    "group_id",
    "from",
    "to",
    "received_at",
    "confidence",
    "used",
    "authenticated",
    "expires_at",
}


def code_mail(to: str, code: str, sender: str = "Shop <noreply@shop.example>") -> bytes:
    return message(
        to,
        subject="Your code",
        body=f"Your verification code is {code}",
        sender=sender,
    )


async def codes(service: Service, **params: Any) -> list[dict[str, Any]]:
    r = await service.http.get(CODES, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["codes"])


async def values(service: Service, **params: Any) -> list[str]:
    return [c["value"] for c in await codes(service, kind="code", **params)]


async def test_code_from_email(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    entry = await deliver(service, "acme", alias, code_mail(alias, "482913"))
    assert [c["value"] for c in entry["codes"]] == ["482913"]
    found = await codes(service, kind="code")
    assert len(found) == 1
    code = found[0]
    assert set(code) == FIELDS
    assert code["value"] == "482913"
    assert code["kind"] == "code"
    assert code["channel"] == "email"
    assert code["message_id"] == entry["id"]
    assert "noreply@shop.example" in code["from"]
    assert code["to"] == [alias]
    received = datetime.fromisoformat(code["received_at"])
    assert received == datetime.fromisoformat(entry["received_at"])
    assert 0 < code["confidence"] <= 1
    assert code["used"] is False


async def test_filters_and_order(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    one = await new_alias(service, "acme", label="one")
    two = await new_alias(service, "acme", label="two")
    first = await deliver(service, "acme", one, code_mail(one, "111111", "a@shop.example"))
    await deliver(service, "acme", two, code_mail(two, "222222", "b@bank.example"))
    await deliver(service, "acme", one, code_mail(one, "333333", "c@bank.example"))

    assert await values(service) == ["333333", "222222", "111111"]
    assert await values(service, channel="email") == ["333333", "222222", "111111"]
    assert await values(service, channel="sms") == []
    assert await values(service, to=one) == ["333333", "111111"]
    assert await values(service, to=two.upper()) == ["222222"]
    assert await values(service, **{"from": "BANK"}) == ["333333", "222222"]
    assert await values(service, **{"from": "%"}) == []
    assert await values(service, limit=1) == ["333333"]
    all_codes = await codes(service, kind="code")
    assert await values(service, after=all_codes[-1]["id"]) == ["333333", "222222"]
    since = datetime.fromisoformat(first["received_at"]) + timedelta(microseconds=1)
    assert "111111" not in await values(service, since=since.isoformat())
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await values(service, since=future) == []

    for params in (
        {"channel": "fax"},
        {"kind": "token"},
        {"after": "nope"},
        {"after": "' OR 1=1 --"},
        {"wait": 301},
        {"wait": -1},
        {"since": "2030-01-01T00:00:00"},
        {"since": "soon"},
        {"limit": 0},
        {"limit": 501},
        {"to": "nobody"},
        {"consume": "perhaps"},
    ):
        assert_error(await service.http.get(CODES, params=params), 422, "validation_failed")
    assert_error(await service.http.get("/projects/ghost/codes"), 404, "not_found")


async def test_wait_for_a_code(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    waiter = asyncio.create_task(service.http.get(CODES, params={"wait": 20, "kind": "code"}))
    await listening(service, "acme")
    await send(service, "agent@acme.test", message("agent@acme.test", body="nothing here"))
    await send(service, "agent@acme.test", code_mail("agent@acme.test", "482913"))
    r = await asyncio.wait_for(waiter, 15)
    assert [c["value"] for c in r.json()["codes"]] == ["482913"]

    r = await service.http.get(CODES, params={"wait": 1, "after": r.json()["codes"][0]["id"]})
    assert r.status_code == 200
    assert r.json() == {"codes": [], "next": None, "notices": [], "skipped": []}


async def test_consume_hands_each_code_out_once(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    token = await new_token(service, "acme", ["read", "write"])
    params = {"consume": "true", "wait": 20, "kind": "code"}
    async with service.client(token) as agent:
        first = asyncio.create_task(agent.get(CODES, params=params))
        second = asyncio.create_task(agent.get(CODES, params=params))
        await listening(service, "acme", 2)

        await send(service, "agent@acme.test", code_mail("agent@acme.test", "111111"))
        done, pending = await asyncio.wait({first, second}, return_when=asyncio.FIRST_COMPLETED)
        assert len(done) == 1
        winner = done.pop().result()
        assert [c["value"] for c in winner.json()["codes"]] == ["111111"]
        assert winner.json()["codes"][0]["used"] is True
        loser = pending.pop()
        # The loser saw the same code arrive but did not get it: still waiting.
        await listening(service, "acme", 1)
        assert not loser.done()

        await send(service, "agent@acme.test", code_mail("agent@acme.test", "222222"))
        r = await asyncio.wait_for(loser, 15)
        assert [c["value"] for c in r.json()["codes"]] == ["222222"]

        # Nothing left to consume: a short wait ends empty.
        r = await agent.get(CODES, params={"consume": "true", "wait": 1, "kind": "code"})
        assert r.status_code == 200
        assert (r.json()["codes"], r.json()["next"], r.json()["notices"]) == ([], None, [])
        assert {s["reason"] for s in r.json()["skipped"]} == {"used"}  # what arrived, and why

    assert await values(service, unused="true") == []
    listed = await codes(service, kind="code")
    assert [(c["value"], c["used"]) for c in listed] == [("222222", True), ("111111", True)]


async def test_unused_never_returns_consumed_codes(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await deliver(service, "acme", "agent@acme.test", code_mail("agent@acme.test", "111111"))
    await deliver(service, "acme", "agent@acme.test", code_mail("agent@acme.test", "222222"))
    r = await service.http.get(CODES, params={"consume": "true", "kind": "code"})
    assert [c["value"] for c in r.json()["codes"]] == ["222222"]
    assert await values(service, unused="true") == ["111111"]
    r = await service.http.get(CODES, params={"consume": "true", "kind": "code"})
    assert [c["value"] for c in r.json()["codes"]] == ["111111"]
    assert await values(service, unused="true") == []
    r = await service.http.get(CODES, params={"consume": "true", "kind": "code"})
    assert (r.json()["codes"], r.json()["next"], r.json()["notices"]) == ([], None, [])
    assert [s["reason"] for s in r.json()["skipped"]] == ["used", "used"]


async def test_many_concurrent_consumers_never_share(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for n in range(3):
        code = f"{n + 1}" * 6
        await deliver(service, "acme", "agent@acme.test", code_mail("agent@acme.test", code))
    results = await asyncio.gather(
        *(service.http.get(CODES, params={"consume": "true", "kind": "code"}) for _ in range(8))
    )
    taken = [c["value"] for r in results for c in r.json()["codes"]]
    assert sorted(taken) == ["111111", "222222", "333333"]


async def test_code_comes_before_the_link_of_the_same_message(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    body = (
        "Your verification code is 730158.\r\n"
        "Or confirm your email address: https://shop.example/verify?token=9f8e7d6c5b4a\r\n"
        "This link expires in 30 minutes."
    )
    mail = message(alias, subject="Confirm your email", body=body)
    entry = await deliver(service, "acme", alias, mail)
    assert entry["codes"] and entry["links"], entry
    first = await codes(service, unused="true", consume="true")
    assert [(c["kind"], c["value"]) for c in first] == [("code", "730158")]
    second = await codes(service, unused="true", consume="true")
    assert [(c["kind"], c["value"]) for c in second] == [
        ("link", "https://shop.example/verify?token=9f8e7d6c5b4a")
    ]
    assert await codes(service, unused="true", consume="true") == []


async def test_codes_page_back_with_before_and_next(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    for n in range(5):
        await deliver(service, "acme", alias, code_mail(alias, f"{n + 1}4{n}9{n}7"))
    whole = await codes(service, kind="code")
    assert len(whole) == 5
    r = await service.http.get(CODES, params={"kind": "code", "limit": 5})
    assert r.json()["next"] is None  # nothing older
    seen, before = [], None
    while True:
        params: dict[str, Any] = {"kind": "code", "limit": 2}
        if before is not None:
            params["before"] = before
        page = (await service.http.get(CODES, params=params)).json()
        seen.append([c["id"] for c in page["codes"]])
        before = page["next"]
        if before is None:
            break
    assert [len(p) for p in seen] == [2, 2, 1]
    assert [i for p in seen for i in p] == [c["id"] for c in whole]
    # consuming takes the next unused codes: no page to turn
    r = await service.http.get(CODES, params={"consume": "true", "limit": 1})
    assert r.json()["next"] is None and len(r.json()["codes"]) == 1


async def test_codes_before_must_name_a_code_of_the_project(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "beta", "beta.test")
    alias = await new_alias(service, "beta", label="signup")
    await deliver(service, "beta", alias, code_mail(alias, "730591"))
    r = await service.http.get("/projects/beta/codes")
    beta_code = r.json()["codes"][0]["id"]
    for bad in (beta_code, "0" * 26, "x", "' OR 1=1 --"):
        assert_error(await service.http.get(CODES, params={"before": bad}), 422)
