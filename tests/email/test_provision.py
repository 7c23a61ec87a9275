"""POST /projects/{id}/email/provision: hosting, DKIM key sealed at rest, the DNS plan."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from agentid.store.tables import Domain
from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import deliver
from tests.service import provision
from tests.service import smtp_rcpt


def records_by_kind(out: dict[str, Any], domain: str) -> dict[str, dict[str, Any]]:
    records = out["dns_records"]
    found: dict[str, dict[str, Any]] = {}
    for rec in records:
        if rec["type"] == "MX":
            found["mx"] = rec
        elif rec["type"] in ("A", "AAAA"):
            found["a"] = rec
        elif rec["value"].startswith("v=spf1"):
            found["spf"] = rec
        elif rec["value"].startswith("v=DKIM1"):
            found["dkim"] = rec
        elif rec["value"].startswith("v=DMARC1"):
            found["dmarc"] = rec
    return found


async def test_provision(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    out = await provision(service, "acme")
    assert out["address"] == "agent@acme.test"
    assert out["domain"] == "acme.test"
    recs = records_by_kind(out, "acme.test")
    assert recs["mx"] == {
        "type": "MX",
        "name": "acme.test",
        "value": "mx.acme.test",
        "priority": 10,
    }
    assert "a" not in recs  # no public_ip configured
    assert recs["spf"]["name"] == "acme.test"
    assert recs["spf"]["value"].startswith("v=spf1 ")
    assert recs["dkim"]["name"] == "agentid._domainkey.acme.test"
    assert recs["dkim"]["value"].startswith("v=DKIM1; k=rsa; p=")
    assert recs["dmarc"]["name"] == "_dmarc.acme.test"
    assert recs["dmarc"]["value"].startswith("v=DMARC1; p=")

    project = (await service.http.get("/projects/acme")).json()
    assert project["email_active"] is True
    assert project["primary_address"] == "agent@acme.test"

    # The private key is sealed with the service key; its public half is the p= value.
    rt = service.running.runtime
    async with rt.sessions() as session:
        row = await session.scalar(select(Domain).where(Domain.name == "acme.test"))
    assert row is not None
    assert b"PRIVATE KEY" not in row.dkim_private_key
    pem = rt.secrets.open(row.dkim_private_key)
    assert b"PRIVATE KEY" in pem
    # No line of the key's PEM body is stored as it is (a fixed fragment such as "MII"
    # could appear in the sealed token's own base64 by chance).
    body_lines = [line for line in pem.splitlines() if line and b"-----" not in line]
    assert body_lines and not any(line in row.dkim_private_key for line in body_lines)
    key = serialization.load_pem_private_key(pem, password=None)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    p = recs["dkim"]["value"].split("p=", 1)[1]
    assert base64.b64decode(p) == public_der

    # Idempotent: the same key and the same records the second time.
    again = await provision(service, "acme")
    first_dns, again_dns = out.pop("dns"), again.pop("dns")
    assert again == out
    # Applied (to the default zone file in the data dir), and the second time unchanged.
    assert first_dns["provider"] == "zonefile" and first_dns["status"] == "applied"
    assert {r["status"] for r in first_dns["records"]} == {"created"}
    assert {r["status"] for r in again_dns["records"]} == {"unchanged"}
    assert out["verification"] is None and out["dns_error"] is None  # a zone file: not yet
    async with rt.sessions() as session:
        rows = (await session.scalars(select(Domain))).all()
    assert [r.dkim_private_key for r in rows] == [row.dkim_private_key]


async def test_provision_with_address(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    out = await provision(service, "acme", address="hello")
    assert out["address"] == "hello@acme.test"
    out = await provision(service, "acme", address="Billing@ACME.test")
    assert out["address"] == "billing@acme.test"
    out = await provision(service, "acme")  # no address: the primary stays
    assert out["address"] == "billing@acme.test"
    for bad in ("hello@other.test", "has space", "a..b", "x" * 65, "@acme.test", ""):
        r = await service.http.post("/projects/acme/email/provision", json={"address": bad})
        assert_error(r, 422)
    for bad in ({"address": 5}, {"addr": "x"}, ["hello"], "hello"):
        r = await service.http.post("/projects/acme/email/provision", json=bad)
        assert_error(r, 422, "validation_failed")
    assert (await service.http.get("/projects/acme")).json()[
        "primary_address"
    ] == "billing@acme.test"


async def test_provision_missing_project(service: Service) -> None:
    assert_error(await service.http.post("/projects/ghost/email/provision"), 404, "not_found")


async def test_provision_without_domain_or_shared_domain(service: Service) -> None:
    await create_project(service, "solo")
    assert_error(await service.http.post("/projects/solo/email/provision"), 409, "conflict")
    assert (await service.http.get("/projects/solo")).json()["email_active"] is False


@pytest.mark.parametrize("overrides", [{"public_ip": "203.0.113.7"}])
async def test_a_record_with_public_ip(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    recs = records_by_kind(await provision(service, "acme"), "acme.test")
    assert recs["mx"]["value"] == "mx.acme.test"
    assert recs["a"] == {
        "type": "A",
        "name": "mx.acme.test",
        "value": "203.0.113.7",
        "priority": None,
    }


@pytest.mark.parametrize("overrides", [{"mail_host": "mail.agentid.example"}])
async def test_mx_points_at_mail_host(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    recs = records_by_kind(await provision(service, "acme"), "acme.test")
    assert recs["mx"]["value"] == "mail.agentid.example"
    assert recs["mx"]["priority"] == 10


async def test_provisioned_domain_receives(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    code, _ = await smtp_rcpt(service, "agent@acme.test")
    assert code == 550  # not hosted before provisioning: no open relay
    await provision(service, "acme")
    entry = await deliver(service, "acme", "agent@acme.test")
    assert entry["to"] == ["agent@acme.test"]


async def test_concurrent_provisioning_agrees_on_one_key(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    results = await asyncio.gather(
        *(service.http.post("/projects/acme/email/provision") for _ in range(4))
    )
    assert [r.status_code for r in results] == [200] * 4, [r.text for r in results]
    dkim = {records_by_kind(r.json(), "acme.test")["dkim"]["value"] for r in results}
    assert len(dkim) == 1
    async with service.running.runtime.sessions() as session:
        assert len((await session.scalars(select(Domain))).all()) == 1
