"""Inbound authentication against a real authoritative name server (NSD on loopback): SPF
from an allowed and a disallowed address, DKIM pass, fail (body altered after signing)
and none, DMARC alignment pass and fail, a domain without DMARC, ARC through a forwarder,
a relay trusted for the client it saw, and lookups that time out. The verdict is stored,
shown as agentid's own Authentication-Results at the top of the headers (the raw message
stays byte-exact) and on each code, which ``authenticated=true`` filters on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import cast

import httpx
import pytest

from agentid.client import AsyncClient
from agentid.errors import Timeout
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.conftest import pg_schema
from tests.conftest import serving
from tests.dns.nameserver import HOST
from tests.dns.nameserver import require_nsd
from tests.email.inbound.authentication import ALLOWED
from tests.email.inbound.authentication import DISALLOWED
from tests.email.inbound.authentication import FORWARDER
from tests.email.inbound.authentication import OTHER
from tests.email.inbound.authentication import RELAY
from tests.email.inbound.authentication import SITE
from tests.email.inbound.authentication import mail
from tests.email.inbound.authentication import name_server
from tests.email.inbound.authentication import sealed
from tests.email.inbound.authentication import send_from
from tests.email.inbound.authentication import signed
from tests.email.inbound.authentication import silent_server
from tests.email.inbound.authentication import verdict_of
from tests.processes import end_group
from tests.processes import serve
from tests.service import hosted
from tests.service import listening
from tests.service import new_alias
from tests.service import new_token
from tests.service import newest_id

AUTHSERV = "mx.agentid.test"
BOUNCE = f"bounce@{SITE}"


@pytest.fixture(scope="module")
def dns_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    require_nsd()
    with name_server(tmp_path_factory.mktemp("nsd")) as port:
        yield port


@pytest.fixture
def overrides(dns_port: int) -> dict[str, Any]:
    return {
        "dns_nameservers": f"{HOST}:{dns_port}",
        "authserv_id": AUTHSERV,
        "trusted_relays": [f"{RELAY}/32"],
        "trusted_arc_sealers": [],
    }


async def received(
    service: Service,
    make: Callable[[str], bytes],
    source: str,
    mail_from: str,
    helo: str = "mail",
    alias: str | None = None,
) -> dict[str, Any]:
    """Send ``make(alias)`` to ``alias`` (else a new alias) of project acme from ``source``;
    the message once its verdict is in."""
    if not await _has_project(service):
        await hosted(service, "acme", "acme.test")
    alias = alias or await new_alias(service, "acme")
    before = await newest_id(service, "acme")
    await send_from(service, source, alias, make(alias), mail_from, helo)
    for _ in range(200):
        mid = await newest_id(service, "acme")
        if mid != before and mid is not None:
            return await verdict_of(service, "acme", mid)
        await asyncio.sleep(0.05)
    raise AssertionError("the message did not arrive")


async def _has_project(service: Service) -> bool:
    return (await service.http.get("/projects/acme")).status_code == 200


def site_mail(
    to: str, subject: str, body: str = "Your code is 482913", sender: str = f"a@{SITE}"
) -> bytes:
    return mail(to, sender, subject, body)


async def test_signed_mail_from_an_allowed_address_passes(service: Service) -> None:
    m = await received(service, lambda to: signed(site_mail(to, "signed"), SITE), ALLOWED, BOUNCE)
    v = m["auth_results"]
    assert v["spf"] == "pass" and v["spf_helo"] is None  # HELO "mail" is no domain
    assert v["dkim"] == [{"domain": SITE, "selector": "s1", "result": "pass"}]
    assert v["dmarc"] == "pass" and v["aligned_domain"] == SITE
    assert v["authenticated"] is True and v["arc"] == "none"
    name, value = m["headers"][0]
    assert name == "Authentication-Results" and value.startswith(f"{AUTHSERV}; spf=pass")
    assert f"dkim=pass header.d={SITE}" in value and f"dmarc=pass header.from={SITE}" in value
    r = await service.http.get(f"/projects/acme/email/messages/{m['id']}/raw")
    assert b"Authentication-Results" not in r.content  # the raw message is as received


async def test_altered_body_and_disallowed_address_fail(service: Service) -> None:
    def altered(to: str) -> bytes:
        return signed(site_mail(to, "altered"), SITE).replace(b"482913", b"000000")

    v = (await received(service, altered, DISALLOWED, BOUNCE))["auth_results"]
    assert v["spf"] == "fail"
    assert v["dkim"][0]["result"] == "fail"
    assert v["dmarc"] == "fail" and v["aligned_domain"] is None and v["authenticated"] is False


async def test_unsigned_mail_has_no_dkim_but_spf_aligns(service: Service) -> None:
    helo = f"mail.{SITE}"
    m = await received(service, lambda to: site_mail(to, "unsigned"), ALLOWED, BOUNCE, helo)
    v = m["auth_results"]
    assert v["dkim"] == [] and "dkim=none" in m["headers"][0][1]
    assert v["spf"] == "pass" and v["spf_helo"] == "pass"
    assert v["dmarc"] == "pass" and v["aligned_domain"] == SITE and v["authenticated"] is True


async def test_unsigned_mail_from_a_disallowed_address_is_not_authenticated(
    service: Service,
) -> None:
    m = await received(service, lambda to: site_mail(to, "spoofed"), DISALLOWED, BOUNCE)
    v = m["auth_results"]
    assert v["spf"] == "fail" and v["dmarc"] == "fail" and v["authenticated"] is False


async def test_a_signature_not_aligned_with_from_fails_dmarc(service: Service) -> None:
    """Signed (validly) by the other domain and sent from its own address, with the
    site in From: DKIM and SPF pass, for the wrong domain."""
    m = await received(
        service, lambda to: signed(site_mail(to, "misaligned"), OTHER), DISALLOWED, f"b@{OTHER}"
    )
    v = m["auth_results"]
    assert v["dkim"] == [{"domain": OTHER, "selector": "s1", "result": "pass"}]
    assert v["spf"] == "pass"
    assert v["dmarc"] == "fail" and v["authenticated"] is False


async def test_without_dmarc_an_aligned_signature_authenticates(service: Service) -> None:
    def other(to: str) -> bytes:
        return signed(site_mail(to, "other", sender=f"x@{OTHER}"), OTHER)

    v = (await received(service, other, ALLOWED, f"b@{OTHER}"))["auth_results"]
    assert v["spf"] == "fail"  # 127.0.0.2 is not the other domain's
    assert v["dmarc"] == "none" and v["aligned_domain"] == OTHER and v["authenticated"] is True

    def unsigned(to: str) -> bytes:
        return site_mail(to, "other unsigned", sender=f"x@{OTHER}")

    v = (await received(service, unsigned, DISALLOWED, f"b@{OTHER}"))["auth_results"]
    assert v["spf"] == "pass" and v["dmarc"] == "none" and v["authenticated"] is False


def forwarded(to: str) -> bytes:
    """Signed by the site, then a list footer added and sealed by the forwarder."""
    original = signed(site_mail(to, "forwarded"), SITE)
    return sealed(original.replace(b"482913\r\n", b"482913\r\n--\r\nlist\r\n"))


async def test_a_forwarded_message_records_its_arc_chain(service: Service) -> None:
    """The forwarder changed the body (DKIM fails) and sends from its own address (SPF
    is not the site's): DMARC fails; the chain it sealed validates, but is not trusted."""
    v = (await received(service, forwarded, RELAY, f"srs@{FORWARDER}"))["auth_results"]
    assert v["arc"] == "pass" and v["arc_sealers"] == [FORWARDER]
    assert v["dkim"][0]["result"] == "fail" and v["dmarc"] == "fail"
    assert v["authenticated"] is False


async def test_a_trusted_sealers_chain_stands_in_for_dmarc(
    backend: str, tmp_path: Path, overrides: dict[str, Any]
) -> None:
    trusting = overrides | {"trusted_arc_sealers": [FORWARDER.upper() + "."]}
    async with serving(tmp_path / "data", backend, **trusting) as (service, _):
        v = (await received(service, forwarded, RELAY, f"srs@{FORWARDER}"))["auth_results"]
        assert v["arc"] == "pass" and v["dkim"][0]["result"] == "fail"
        assert v["dmarc"] == "pass" and v["authenticated"] is True
        # a chain it did not seal, or one that no longer validates, stands in for nothing
        broken = await received(
            service,
            lambda to: forwarded(to).replace(b"482913", b"482914"),
            RELAY,
            f"srs@{FORWARDER}",
        )
        assert broken["auth_results"]["arc"] == "fail"
        assert broken["auth_results"]["authenticated"] is False


async def test_hostile_signatures_are_errors_not_failures_to_store(service: Service) -> None:
    def junk(to: str) -> bytes:
        return b"DKIM-Signature: v=1; a=rsa-sha256; d=; s=\r\n" * 3 + site_mail(to, "junk")

    def missing_key(to: str) -> bytes:
        return signed(site_mail(to, "no key"), SITE).replace(b"s=s1;", b"s=nokey;")

    def many(to: str) -> bytes:
        made = signed(site_mail(to, "many"), SITE)
        for _ in range(12):
            made = signed(made, SITE)
        return made

    m = await received(service, junk, ALLOWED, BOUNCE)
    assert [s["result"] for s in m["auth_results"]["dkim"]] == ["permerror"] * 3
    v = (await received(service, missing_key, ALLOWED, BOUNCE))["auth_results"]
    assert v["dkim"][0]["result"] == "permerror"
    v = (await received(service, many, ALLOWED, BOUNCE))["auth_results"]
    assert len(v["dkim"]) == 8 and {s["result"] for s in v["dkim"]} == {"pass"}


HOP = (
    f"Received: from mail.{SITE} (mail.{SITE} [{ALLOWED}])\r\n"
    "\tby edge (Postfix) with ESMTP id 1\r\n"
)


async def test_a_trusted_relay_speaks_for_the_client_it_saw(service: Service) -> None:
    """From 127.0.0.4 (trusted), SPF judges the address its top Received header names;
    the same header from anyone else is ignored."""

    def relayed(to: str) -> bytes:
        return HOP.encode() + site_mail(to, "relayed")

    v = (await received(service, relayed, RELAY, BOUNCE))["auth_results"]
    assert v["spf"] == "pass" and v["spf_helo"] == "pass"
    v = (await received(service, relayed, DISALLOWED, BOUNCE))["auth_results"]
    assert v["spf"] == "fail"

    def unreadable(to: str) -> bytes:
        return b"Received: by edge; no client here\r\n" + site_mail(to, "relayed badly")

    v = (await received(service, unreadable, RELAY, BOUNCE))["auth_results"]
    assert v["spf"] == "none" and v["authenticated"] is False


# -- the codes API ------------------------------------------------------------------------


def code_mail(to: str, code: str, sender: str = f"a@{SITE}") -> bytes:
    return mail(to, sender, f"code {code}", f"Your verification code is {code}")


async def codes(service: Service, **params: Any) -> list[str]:
    r = await service.http.get("/projects/acme/codes", params={"kind": "code", **params})
    assert r.status_code == 200, r.text
    return [c["value"] for c in r.json()["codes"]]


async def test_authenticated_true_keeps_the_authentic_code(service: Service) -> None:
    await received(service, lambda to: signed(code_mail(to, "111222"), SITE), ALLOWED, BOUNCE)
    await received(service, lambda to: code_mail(to, "999888"), DISALLOWED, BOUNCE)  # later
    assert await codes(service) == ["999888", "111222"]
    assert await codes(service, authenticated="true") == ["111222"]
    assert await codes(service, authenticated="false") == ["999888"]
    r = await service.http.get("/projects/acme/codes", params={"authenticated": "true"})
    assert [c["authenticated"] for c in r.json()["codes"]] == [True]


async def test_a_wait_for_an_authenticated_code_ends_on_its_verdict(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme")

    async def wait() -> dict[str, Any]:
        params = {"kind": "code", "authenticated": "true", "consume": "true", "wait": 20}
        r = await service.http.get("/projects/acme/codes", params=params)
        return dict(r.json())

    waiter = asyncio.create_task(wait())
    await listening(service, "acme")
    await send_from(service, DISALLOWED, alias, code_mail(alias, "123000"), BOUNCE)
    await send_from(service, ALLOWED, alias, signed(code_mail(alias, "456000"), SITE), BOUNCE)
    got = await waiter
    assert [c["value"] for c in got["codes"]] == ["456000"]
    assert got["codes"][0]["authenticated"] is True


async def test_the_project_setting_makes_authenticated_the_default(service: Service) -> None:
    await received(service, lambda to: code_mail(to, "777000"), DISALLOWED, BOUNCE)
    assert await codes(service) == ["777000"]
    r = await service.http.patch("/projects/acme", json={"authenticated_codes": True})
    assert r.status_code == 200 and r.json()["authenticated_codes"] is True
    assert await codes(service) == []
    assert await codes(service, authenticated="false") == ["777000"]  # said in so many words
    r = await service.http.get("/projects/acme/codes", params={"wait": 0})
    assert [s["reason"] for s in r.json()["skipped"]] == ["not authenticated"]
    r = await service.http.patch("/projects/acme", json={"authenticated_codes": "maybe"})
    assert r.status_code == 422


async def test_lookups_that_time_out_are_temperror_and_lose_nothing(
    backend: str, tmp_path: Path, overrides: dict[str, Any]
) -> None:
    """Name servers that never answer: the message is visible and its code found at once
    (a wait without ``authenticated`` is not held up), the verdict is temperror once the
    check's time is up, and the code is then not authenticated."""
    with silent_server() as port:
        silent = overrides | {"dns_nameservers": f"{HOST}:{port}", "auth_timeout_seconds": 3}
        async with serving(tmp_path / "data", backend, **silent) as (service, _):
            await hosted(service, "acme", "acme.test")
            alias = await new_alias(service, "acme")
            plain = {"kind": "code", "wait": 20}
            waiter = asyncio.create_task(service.http.get("/projects/acme/codes", params=plain))
            await listening(service, "acme")
            await send_from(
                service, ALLOWED, alias, signed(code_mail(alias, "313313"), SITE), BOUNCE
            )
            found = (await waiter).json()["codes"]
            assert [c["value"] for c in found] == ["313313"]
            mid = found[0]["message_id"]
            m = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
            assert m["auth_results"] is None and m["status"] == "parsed"  # visible meanwhile
            assert found[0]["authenticated"] is None  # no verdict yet
            v = (await verdict_of(service, "acme", mid))["auth_results"]
            assert v["spf"] == "temperror" and v["dmarc"] == "temperror"
            assert v["authenticated"] is False
            assert await codes(service, authenticated="true") == []
            assert await codes(service) == ["313313"]


async def test_a_site_bound_authenticated_wait_takes_only_the_real_code(service: Service) -> None:
    """Issue 14's wait, with verdicts: a phishing mail that claims to be the site, a code
    older than ``since`` and one sent to another sign-up's alias all stay out."""
    await hosted(service, "acme", "acme.test")
    alias, other_alias = await new_alias(service, "acme"), await new_alias(service, "acme")
    token = await new_token(service, "acme", ["read", "write"])
    stale = await received(
        service, lambda to: signed(code_mail(to, "100001"), SITE), ALLOWED, BOUNCE, alias=alias
    )
    assert stale["auth_results"]["authenticated"] is True
    since = datetime.now(UTC)
    async with AsyncClient(service.running.url, token, project="acme") as agent:
        waiter = asyncio.create_task(
            agent.wait_for_code(site=SITE, since=since, to=alias, authenticated=True, timeout=20)
        )
        await listening(service, "acme")
        await send_from(service, DISALLOWED, alias, code_mail(alias, "666666"), BOUNCE)
        other = signed(code_mail(other_alias, "200002"), SITE)
        await send_from(service, ALLOWED, other_alias, other, BOUNCE)
        await send_from(service, ALLOWED, alias, signed(code_mail(alias, "300003"), SITE), BOUNCE)
        code = await waiter
        assert (code.value, code.authenticated) == ("300003", True)
        with pytest.raises(Timeout) as timed_out:
            await agent.wait_for_code(
                site=SITE, since=since, to=alias, authenticated=True, timeout=0.5
            )
    reasons = {s.reason for s in timed_out.value.skipped}
    assert reasons == {"used", "not authenticated", "before since"}


@dataclass
class Served:
    """What ``received`` needs of a service: its API and its SMTP port."""

    http: httpx.AsyncClient
    smtp_port: int


async def test_agentid_serve_checks_what_its_parse_workers_digest(
    backend: str, tmp_path: Path, dns_port: int
) -> None:
    """``agentid serve`` as deployed (parse worker processes, the spool writer): the
    verdicts come as they do in the tests' in-process service."""
    env = {"AGENTID_DNS_NAMESERVERS": f"{HOST}:{dns_port}", "AGENTID_AUTHSERV_ID": AUTHSERV}
    async with contextlib.AsyncExitStack() as stack:
        schema = await stack.enter_async_context(pg_schema()) if backend == "postgresql" else None
        server = await serve(tmp_path / "data", schema, tmp_path / "serve.log", **env)
        stack.callback(end_group, server)
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            service = cast(Service, Served(http, server.smtp_port))  # what received() uses
            v = await received(
                service, lambda to: signed(code_mail(to, "515151"), SITE), ALLOWED, BOUNCE
            )
            assert v["auth_results"]["authenticated"] is True
            v = await received(service, lambda to: code_mail(to, "525252"), DISALLOWED, BOUNCE)
            verdict = v["auth_results"]
            assert verdict["spf"] == "fail" and verdict["authenticated"] is False
