"""Site-bound waits on GET /projects/{id}/codes: ``site=`` keeps the codes a site sent (the
registrable domain of From, public-suffix aware and offline), ``since`` defaults to five
minutes back, and an empty answer says what arrived and why it was left out."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest

from agentid.codes.sites import registrable
from agentid.codes.sites import sender_sites
from agentid.codes.sites import sites
from agentid.errors import ValidationFailed
from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import deliver
from tests.service import hosted
from tests.service import listening
from tests.service import message
from tests.service import new_alias
from tests.service import new_token
from tests.service import send

CODES = "/projects/acme/codes"


def code_mail(to: str, code: str, sender: str) -> bytes:
    return message(to, "Your code", f"Your verification code is {code}", sender)


async def answer(service: Service, **params: Any) -> dict[str, Any]:
    r = await service.http.get(CODES, params={"kind": "code", **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def values(service: Service, **params: Any) -> list[str]:
    return [c["value"] for c in (await answer(service, **params))["codes"]]


async def mail_from(service: Service, alias: str, code: str, sender: str) -> dict[str, Any]:
    return await deliver(service, "acme", alias, code_mail(alias, code, f"Site <{sender}>"))


# -- the rule, offline ---------------------------------------------------------------------


def test_registrable_domains_know_the_public_suffixes() -> None:
    assert registrable("mail.notion.so") == "notion.so"
    assert registrable("a.b.example.co.uk") == "example.co.uk"
    assert registrable("NOTION.SO.") == "notion.so"
    assert registrable("notion.so.evil.com") == "evil.com"
    assert registrable("bücher.de") == "xn--bcher-kva.de"
    for none in ("co.uk", "localhost", "evil.example", "127.0.0.1", "", "\udcff.com"):
        assert registrable(none) is None, none


def test_site_filters_are_checked() -> None:
    assert sites(["www.notion.so", "notion.so", "makenotion.com"]) == (
        "notion.so",
        "makenotion.com",
    )
    for bad in (["co.uk"], ["localhost"], [""], ["a\x00.com"], [f"s{i}.com" for i in range(11)]):
        with pytest.raises(ValidationFailed):
            sites(bad)


def test_only_an_aligned_dkim_signature_speaks_for_its_domain() -> None:
    aligned = {
        "dkim": [{"domain": "mail.notion.so", "result": "pass"}],
        "aligned_domain": "mail.notion.so",
    }
    unaligned = {"dkim": [{"domain": "notion.so", "result": "pass"}], "aligned_domain": None}
    assert sender_sites("x@em.notion.so", aligned) == {"notion.so"}
    assert sender_sites("x@sendgrid.net", unaligned) == {"sendgrid.net"}
    assert sender_sites(None, None) == set()
    assert sender_sites("not an address", {"dkim": "junk"}) == set()


# -- against a running agentid ---------------------------------------------------------------


async def test_site_keeps_the_code_of_the_site_asked_for(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    await mail_from(service, alias, "111111", "no-reply@mail.notion.so")
    await mail_from(service, alias, "222222", "team@makenotion.com")
    await mail_from(service, alias, "333333", "noreply@github.com")
    assert await values(service, site="notion.so") == ["111111"]
    assert await values(service, site="www.notion.so") == ["111111"]
    both = await values(service, site=["notion.so", "makenotion.com"])
    assert both == ["222222", "111111"]
    assert await values(service) == ["333333", "222222", "111111"]  # no site: all of them
    taken = await answer(service, site="github.com", consume="true")
    assert [c["value"] for c in taken["codes"]] == ["333333"] and taken["skipped"] == []


async def test_lookalike_domains_are_other_sites(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    senders = [
        "no-reply@notion.so.evil.com",
        "no-reply@notion.so.evil.example",  # no public suffix at all
        "no-reply@evilnotion.so",
        "no-reply@xn--ntion-rbb.so",  # a look-alike IDN, in punycode
        "notion.so@evil.com",
    ]
    mids = [(await mail_from(service, alias, f"40000{i}", s))["id"] for i, s in enumerate(senders)]
    found = await answer(service, site="notion.so", consume="true", wait=0.2)
    assert found["codes"] == []
    assert [s["message_id"] for s in found["skipped"]] == mids[::-1]
    assert {s["reason"] for s in found["skipped"]} == {"other site"}
    assert senders[0] in found["skipped"][-1]["from"]
    assert await values(service, unused="true") == [f"40000{i}" for i in range(4, -1, -1)]


async def test_multi_part_public_suffixes(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    await mail_from(service, alias, "510510", "codes@mail.example.co.uk")
    await mail_from(service, alias, "520520", "codes@other.co.uk")
    assert await values(service, site="example.co.uk") == ["510510"]
    assert await values(service, site="accounts.example.co.uk") == ["510510"]
    assert await values(service, site="other.co.uk") == ["520520"]
    assert_error(await service.http.get(CODES, params={"site": "co.uk"}), 422)


async def test_a_wait_ends_on_the_sites_code_not_on_another(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    waiter = asyncio.create_task(answer(service, site="notion.so", consume="true", wait=20))
    await listening(service, "acme")
    await send(service, alias, code_mail(alias, "999000", "Evil <no-reply@notion.so.evil.com>"))
    await send(service, alias, code_mail(alias, "123456", "Notion <notify@notion.so>"))
    got = await waiter
    assert [c["value"] for c in got["codes"]] == ["123456"]
    assert got["codes"][0]["used"] is True


async def test_stale_and_used_codes_are_skipped_with_their_reason(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    first = await mail_from(service, alias, "700001", "notify@notion.so")
    later = datetime.fromisoformat(first["received_at"]) + timedelta(seconds=1)
    stale = await answer(service, site="notion.so", since=later.isoformat(), wait=0.2)
    assert stale["codes"] == []
    (skip,) = stale["skipped"]
    assert (skip["message_id"], skip["reason"]) == (first["id"], "before since")
    assert "notify@notion.so" in skip["from"]

    taken = await answer(service, site="notion.so", consume="true")  # since: 5 minutes back
    assert [c["value"] for c in taken["codes"]] == ["700001"]
    again = await answer(service, site="notion.so", consume="true", wait=0.2)
    assert again["codes"] == [] and [s["reason"] for s in again["skipped"]] == ["used"]
    # an explicit old since reaches it too: used all the same
    old = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert await values(service, site="notion.so", since=old, unused="true") == []


async def test_since_defaults_to_five_minutes_only_with_a_site(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    await mail_from(service, alias, "818181", "notify@notion.so")
    future = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    assert await values(service, since=future) == []
    assert await values(service, site="notion.so") == ["818181"]


async def test_sms_only_with_channel_sms(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    await mail_from(service, alias, "626262", "notify@notion.so")
    sms = await answer(service, site="notion.so", channel="sms")
    assert sms["codes"] == [] and sms["skipped"] == []  # email is not in an SMS query
    assert await values(service, site="notion.so", channel="email") == ["626262"]


async def test_malformed_and_unauthorized_site_queries(service: Service) -> None:
    await create_project(service, "acme")
    await create_project(service, "other")
    for bad in ("co.uk", "localhost", "", "a\x00b.com", "x" * 300 + ".com", "1.2.3.4"):
        assert_error(await service.http.get(CODES, params={"site": bad}), 422)
    many = [("site", f"s{i}.com") for i in range(11)]
    assert_error(await service.http.get(CODES, params=many), 422)
    too_many = [("site", f"s{i}.com") for i in range(51)]
    assert_error(await service.http.get(CODES, params=too_many), 422)
    token = await new_token(service, "other", ["read"])
    async with service.client(token) as stranger:
        assert_error(await stranger.get(CODES, params={"site": "notion.so"}), 404)
    reader = await new_token(service, "acme", ["read"])
    async with service.client(reader) as read_only:
        params = {"site": "notion.so", "consume": "true"}
        assert_error(await read_only.get(CODES, params=params), 403)


def test_each_skip_reason_needs_its_filter() -> None:
    from agentid.codes.repository import CodeQuery
    from agentid.codes.service import _reason
    from agentid.store.tables import CodeRow

    now = datetime.now(UTC)
    row = CodeRow(
        received_at=now - timedelta(minutes=1),
        used=True,
        expires_at=now - timedelta(seconds=1),
        authenticated=False,
        channel="email",
    )
    site = ("notion.so",)
    assert _reason(CodeQuery(sites=site), row, False, now) == "other site"
    assert _reason(CodeQuery(sites=site, channel="sms"), row, False, now) is None
    assert _reason(CodeQuery(since=now), row, True, now) == "before since"
    assert _reason(CodeQuery(consume=True), row, True, now) == "used"
    assert _reason(CodeQuery(unexpired=True), row, True, now) == "expired"
    assert _reason(CodeQuery(authenticated=True), row, True, now) == "not authenticated"
    unchecked = CodeRow(received_at=now, used=False, expires_at=None, authenticated=None)
    unproven = _reason(CodeQuery(authenticated=True), unchecked, True, now)
    assert unproven == "not authenticated"  # no verdict (yet) proves nothing
    assert _reason(CodeQuery(), unchecked, True, now) is None
    assert _reason(CodeQuery(), row, True, now) is None
