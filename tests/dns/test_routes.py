"""The DNS routes on a running agentid, both stores: the plan, apply through a project's
own Cloudflare account (idempotent, conflicts, provider errors leave the state as it
was), verify against NSD, and who may do what."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Service
from tests.conftest import serving
from tests.dns.nameserver import free_udp_port
from tests.dns.nameserver import nsd
from tests.dns.nameserver import require_nsd
from tests.dns.nameserver import write_zone
from tests.providers.dns.cloudflare_server import TOKEN
from tests.providers.dns.cloudflare_server import CloudflareState
from tests.providers.dns.cloudflare_server import running_cloudflare
from tests.providers.mail.sendgrid_server import KEY as SENDGRID_KEY
from tests.providers.mail.sendgrid_server import running_sendgrid
from tests.service import assert_error
from tests.service import create_project
from tests.service import new_token
from tests.service import provision

QUIET = {"dns_nameservers": f"127.0.0.1:{free_udp_port()}", "dns_timeout_seconds": 0.2}


@pytest.fixture
def overrides() -> dict[str, Any]:
    return dict(QUIET)


@pytest.fixture
def cloudflare() -> Any:
    with running_cloudflare() as state:
        state.add_zone("acme.test")
        yield state


async def with_cloudflare(service: Service, cf: CloudflareState, pid: str = "acme") -> None:
    await create_project(service, pid, f"{pid}.test" if pid != "acme" else "acme.test")
    r = await service.http.put(f"/projects/{pid}/providers/dns", json={"url": cf.url()})
    assert r.status_code == 200, r.text


async def test_plan_before_and_after_provision(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    assert_error(await service.http.get("/projects/acme/email/dns"), 409, "conflict")
    await provision(service, "acme")
    r = await service.http.get("/projects/acme/email/dns")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["domain"] == "acme.test" and body["status"] == "applied"
    assert [x["role"] for x in body["records"]] == ["mx", "spf", "dkim", "dmarc"]
    assert {x["status"] for x in body["records"]} == {"created"}  # into the default zone file
    zone = body["zone"].splitlines()
    assert zone[0].startswith("; ") and all(
        line.startswith(("; ", "acme.test.", "agentid.", "_dmarc.")) for line in zone
    )
    dkim = next(line for line in zone if "DKIM1" in line)
    assert dkim.count('" "') >= 1  # a long TXT as several strings on one line
    assert body["verification"] is None


async def test_apply_through_cloudflare(service: Service, cloudflare: CloudflareState) -> None:
    await with_cloudflare(service, cloudflare)
    out = await provision(service, "acme")
    assert out["dns_error"] is None
    assert out["dns"]["provider"] == "cloudflare" and out["dns"]["status"] == "applied"
    assert {x["status"] for x in out["dns"]["records"]} == {"created"}
    assert out["verification"]["status"] == "unverified"  # nobody serves it here
    assert {x["status"] for x in out["verification"]["records"]} == {"error"}
    made = len(cloudflare.changes())
    r = await service.http.post("/projects/acme/email/dns", json={})
    assert r.status_code == 200, r.text
    assert {x["status"] for x in r.json()["records"]} == {"unchanged"}
    assert len(cloudflare.changes()) == made  # the second apply changed nothing

    # Someone adds a DMARC record of their own: a conflict, nothing changed, the DMARC
    # record stored as in conflict (with what stands there), the others as they were.
    cloudflare.add("acme.test", "TXT", "_dmarc.acme.test", '"v=DMARC1; p=reject"')
    [ours] = [
        x
        for x in cloudflare.of("acme.test")
        if x["name"] == "_dmarc.acme.test" and "p=none" in x["content"]
    ]
    cloudflare.records[cloudflare.zones["acme.test"]].pop(ours["id"])
    before = (await service.http.get("/projects/acme/email/dns")).json()
    made = len(cloudflare.changes())
    err = assert_error(await service.http.post("/projects/acme/email/dns"), 409, "conflict")
    assert "_dmarc.acme.test" in err["error"]["message"] and "force" in err["error"]["message"]
    assert len(cloudflare.changes()) == made  # nothing sent
    said = {x["role"]: x for x in err["error"]["records"]}
    assert [x["role"] for x in err["error"]["records"]] == ["mx", "spf", "dkim", "dmarc"]
    assert {said[role]["status"] for role in ("mx", "spf", "dkim")} == {"unchanged"}
    assert said["dmarc"]["status"] == "conflict" and said["dmarc"]["name"] == "_dmarc.acme.test"
    assert said["dmarc"]["value"].startswith("v=DMARC1; p=none")  # what agentid would write
    (theirs,) = said["dmarc"]["found"]
    assert "p=reject" in theirs
    after = (await service.http.get("/projects/acme/email/dns")).json()
    dmarc = next(x for x in after["records"] if x["role"] == "dmarc")
    assert (dmarc["status"], dmarc["found"]) == ("conflict", [theirs])
    assert [x for x in after["records"] if x["role"] != "dmarc"] == [
        x for x in before["records"] if x["role"] != "dmarc"
    ]
    assert (after["status"], after["applied_at"]) == (before["status"], before["applied_at"])
    r = await service.http.post("/projects/acme/email/dns", json={"force": True})
    assert r.status_code == 200, r.text
    dmarc = next(x for x in r.json()["records"] if x["role"] == "dmarc")
    assert (dmarc["status"], dmarc["found"]) == ("updated", [])
    shown = (await service.http.get("/projects/acme/email/dns")).json()["records"]
    assert next(x for x in shown if x["role"] == "dmarc")["status"] == "updated"


async def test_a_conflict_on_the_first_apply(service: Service, cloudflare: CloudflareState) -> None:
    cloudflare.add_zone("beta.test")
    cloudflare.add("beta.test", "MX", "beta.test", "mx.elsewhere.test", priority=5)
    await with_cloudflare(service, cloudflare, "beta")
    out = await provision(service, "beta")  # hosting stays; DNS says why it was not applied
    assert "MX beta.test (found 5 mx.elsewhere.test)" in out["dns_error"]
    assert len(cloudflare.changes()) == 0
    err = assert_error(await service.http.post("/projects/beta/email/dns"), 409, "conflict")
    said = {x["role"]: (x["status"], x["found"]) for x in err["error"]["records"]}
    assert said == {
        "mx": ("conflict", ["5 mx.elsewhere.test"]),
        "spf": ("planned", []),  # not sent: the conflict stopped the apply
        "dkim": ("planned", []),
        "dmarc": ("planned", []),
    }
    shown = (await service.http.get("/projects/beta/email/dns")).json()
    assert {x["role"]: x["status"] for x in shown["records"]} == {
        "mx": "conflict",
        "spf": "planned",
        "dkim": "planned",
        "dmarc": "planned",
    }
    assert len(cloudflare.changes()) == 0
    r = await service.http.post("/projects/beta/email/dns", json={"force": True})
    assert r.status_code == 200, r.text
    assert {x["role"]: x["status"] for x in r.json()["records"]} == {
        "mx": "updated",
        "spf": "created",
        "dkim": "created",
        "dmarc": "created",
    }


async def test_provider_errors_leave_the_state(
    service: Service, cloudflare: CloudflareState
) -> None:
    await with_cloudflare(service, cloudflare)
    await provision(service, "acme")
    before = (await service.http.get("/projects/acme/email/dns")).json()
    r = await service.http.put(
        "/projects/acme/providers/dns", json={"url": cloudflare.url("bad-token")}
    )
    assert r.status_code == 200
    err = assert_error(await service.http.post("/projects/acme/email/dns"), 502, "provider_auth")
    assert "bad-token" not in err["error"]["message"] and TOKEN not in err["error"]["message"]
    assert (await service.http.get("/projects/acme/email/dns")).json() == before
    cloudflare.visible.clear()  # a zone the token cannot see
    r = await service.http.put("/projects/acme/providers/dns", json={"url": cloudflare.url()})
    err = assert_error(
        await service.http.post("/projects/acme/email/dns"), 422, "provider_rejected"
    )
    assert "no zone holding acme.test" in err["error"]["message"]
    assert (await service.http.get("/projects/acme/email/dns")).json() == before


async def test_who_may_do_what(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    await provision(service, "acme")
    await create_project(service, "other", "other.test")
    read = service.client(await new_token(service, "acme", ["read"]))
    stranger = service.client(await new_token(service, "other"))
    async with read, stranger:
        assert (await read.get("/projects/acme/email/dns")).status_code == 200
        assert_error(await read.post("/projects/acme/email/dns"), 403)
        assert_error(await read.post("/projects/acme/email/dns/verify"), 403)
        assert_error(await stranger.get("/projects/acme/email/dns"), 404, "not_found")
        assert_error(await stranger.post("/projects/acme/email/dns/verify"), 403)  # admin only
    for body in ({"force": [1]}, {"force": True, "zone": "x"}, [1, 2]):
        assert_error(await service.http.post("/projects/acme/email/dns", json=body), 422)
    bad = await service.http.post(
        "/projects/acme/email/dns",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_error(bad, 422)
    assert_error(await service.http.get(f"/projects/{quote('../x', safe='')}/email/dns"), 404)
    await create_project(service, "bare")
    assert_error(await service.http.get("/projects/bare/email/dns"), 409, "conflict")


async def test_verify_against_nsd(backend: str, tmp_path: Path) -> None:
    require_nsd()
    port = free_udp_port()
    settings = {
        "dns_nameservers": f"127.0.0.1:{port}",
        "public_ip": "203.0.113.7",
        "dns_timeout_seconds": 1.0,
    }
    async with serving(tmp_path / "data", backend, **settings) as (service, _):
        await create_project(service, "acme", "acme.test")
        await provision(service, "acme")
        fragment = (tmp_path / "data" / "zones" / "acme.test.zone").absolute()
        write_zone(tmp_path, "acme.test", f"$INCLUDE {fragment} acme.test.\n")
        write_zone(tmp_path, "113.0.203.in-addr.arpa", "")
        with nsd(tmp_path, ["acme.test", "113.0.203.in-addr.arpa"], port):
            r = await service.http.post("/projects/acme/email/dns/verify")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "verified"
        got = {(x["type"], x["name"]): x["status"] for x in body["records"]}
        assert got[("MX", "acme.test")] == "ok" and got[("A", "mx.acme.test")] == "ok"
        assert got[("PTR", "7.113.0.203.in-addr.arpa")] == "missing"
        plan = (await service.http.get("/projects/acme/email/dns")).json()
        assert plan["status"] == "verified" and plan["verification"] == body
        # Each verify asks again: with the server gone, every record is an error.
        r = await service.http.post("/projects/acme/email/dns/verify")
        assert r.json()["status"] == "unverified"
        assert {x["status"] for x in r.json()["records"]} == {"error"}


async def test_the_relays_records_join_the_plan(
    service: Service, cloudflare: CloudflareState
) -> None:
    with running_sendgrid(SENDGRID_KEY) as sendgrid:
        await with_cloudflare(service, cloudflare)
        r = await service.http.put("/projects/acme/providers/relay", json={"url": sendgrid.url()})
        assert r.status_code == 200, r.text
        out = await provision(service, "acme")
        assert out["dns_error"] is None, out["dns_error"]
        relay = [x for x in out["dns"]["records"] if x["role"] == "relay_dkim"]
        assert [x["name"] for x in relay] == [
            "em1.acme.test",
            "s1._domainkey.acme.test",
            "s2._domainkey.acme.test",
        ]
        assert {x["status"] for x in relay} == {"created"}
        spf = next(x for x in out["dns"]["records"] if x["role"] == "spf")
        assert spf["value"] == "v=spf1 mx include:sendgrid.net ~all"
        assert len(out["dns_records"]) == len(out["dns"]["records"])
        plan = (await service.http.get("/projects/acme/email/dns")).json()  # no relay call
        assert [x["role"] for x in plan["records"]].count("relay_dkim") == 3
        assert len(sendgrid.domains) == 1
        await service.http.post("/projects/acme/email/dns")  # asks again: found, not made
        assert len(sendgrid.domains) == 1


async def test_a_public_key_that_is_not_our_keys_half(service: Service) -> None:
    from sqlalchemy import select

    from agentid.store.tables import Domain

    await create_project(service, "acme", "acme.test")
    await provision(service, "acme")
    async with service.running.runtime.sessions() as session:
        row = await session.scalar(select(Domain).where(Domain.name == "acme.test"))
        assert row is not None
        row.dkim_public_key = "AAAA" + row.dkim_public_key[4:]
        await session.commit()
    r = await service.http.post("/projects/acme/email/dns/verify")
    dkim = next(x for x in r.json()["records"] if x["name"].startswith("agentid._domainkey"))
    assert dkim["status"] == "wrong" and "private key" in dkim["reason"]


async def test_a_partial_apply_says_what_exists(
    service: Service, cloudflare: CloudflareState
) -> None:
    await with_cloudflare(service, cloudflare)
    cloudflare.fail_next(500, 1000, "Internal error", method="POST")  # the MX create
    out = await provision(service, "acme")
    assert out["dns"]["status"] == "partial"
    mx, *rest = out["dns"]["records"]
    assert mx["status"] == "error" and "Internal error" in mx["error"]
    assert {x["status"] for x in rest} == {"created"}
    assert not [x for x in cloudflare.of("acme.test") if x["type"] == "MX"]
    r = await service.http.post("/projects/acme/email/dns")
    again = {x["role"]: x["status"] for x in r.json()["records"]}
    assert again["mx"] == "created" and again["spf"] == "unchanged"
    assert r.json()["status"] == "applied"


async def test_apply_refuses_an_spf_record_over_ten_lookups_nested(
    backend: str, tmp_path: Path
) -> None:
    from tests.dns.test_spf_nsd import SPF_ZONE

    require_nsd()
    port = free_udp_port()
    settings = {"dns_nameservers": f"127.0.0.1:{port}", "spf_include": "top.spf.test"}
    write_zone(tmp_path, "spf.test", SPF_ZONE)
    async with serving(tmp_path / "data", backend, **settings) as (service, _):
        await create_project(service, "acme", "acme.test")
        with nsd(tmp_path, ["spf.test"], port):
            out = await provision(service, "acme")  # hosting stays; the records wait
            assert out["dns_error"] and "20 DNS lookups" in out["dns_error"]  # mx, then 19
            r = await service.http.post("/projects/acme/email/dns")
            body = assert_error(r, 409, "conflict")
            assert (
                "need 20 DNS lookups counting what its includes include"
                in (body["error"]["message"])
            )
        assert not (tmp_path / "data" / "zones" / "acme.test.zone").exists()
