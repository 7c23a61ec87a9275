"""Projects without a domain of their own live on the shared domain: <project>+tag@shared."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import deliver
from tests.service import hosted
from tests.service import message
from tests.service import new_alias
from tests.service import new_token
from tests.service import send
from tests.service import smtp_rcpt

pytestmark = pytest.mark.parametrize("overrides", [{"shared_domain": "agents.example"}])


async def test_provision_on_shared_domain(service: Service, overrides: dict[str, Any]) -> None:
    await create_project(service, "acme")
    r = await service.http.post("/projects/acme/email/provision")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["address"] == "acme@agents.example"
    assert out["domain"] == "agents.example"
    project = (await service.http.get("/projects/acme")).json()
    assert project["email_active"] is True
    assert project["primary_address"] == "acme@agents.example"


async def test_shared_domain_is_not_a_project_domain(
    service: Service, overrides: dict[str, Any]
) -> None:
    r = await service.http.post("/projects", json={"id": "acme", "domain": "Agents.Example"})
    assert_error(r, 409, "conflict")


async def test_shared_aliases(service: Service, overrides: dict[str, Any]) -> None:
    await hosted(service, "acme")
    address = await new_alias(service, "acme", label="signup")
    assert re.fullmatch(r"acme\+signup-[a-z0-9]{6}@agents\.example", address), address
    exact = await new_alias(service, "acme", local_part="billing")
    assert exact == "acme+billing@agents.example"
    r = await service.http.post("/projects/acme/email/aliases", json={"local_part": "a+b"})
    assert_error(r, 422)


async def test_mail_to_project_tag_goes_to_that_project_only(
    service: Service, overrides: dict[str, Any]
) -> None:
    await hosted(service, "acme")
    await hosted(service, "beta")
    entry = await deliver(
        service, "acme", "acme+anything@agents.example", message("acme+anything@agents.example")
    )
    assert entry["to"] == ["acme+anything@agents.example"]
    alias = await new_alias(service, "acme", label="signup")
    entry = await deliver(service, "acme", alias, message(alias, subject="via alias"))
    assert entry["subject"] == "via alias"

    r = await service.http.get("/projects/acme/email/inbox")
    assert len(r.json()["messages"]) == 2
    token = await new_token(service, "beta")
    async with service.client(token) as beta:
        r = await beta.get("/projects/beta/email/inbox")
        assert r.json()["messages"] == []
        r = await beta.get("/projects/beta/email/inbox", params={"to": alias})
        assert r.json()["messages"] == []
        r = await beta.get("/projects/acme/email/inbox")
        assert_error(r, 404)


async def test_shared_refusals(service: Service, overrides: dict[str, Any]) -> None:
    await hosted(service, "acme")
    code, _ = await smtp_rcpt(service, "nobody+x@agents.example")
    assert code == 550
    code, _ = await smtp_rcpt(service, "acme@elsewhere.example")
    assert code == 550
    alias = await new_alias(service, "acme", label="gone")
    assert (await service.http.delete(f"/projects/acme/email/aliases/{alias}")).status_code == 200
    code, reply = await smtp_rcpt(service, alias)
    assert code == 550 and b"5.1.1" in reply
    await send(service, "acme+other@agents.example")
