"""Tokens: shown once, stored hashed; 401 without one, 403 on admin routes, 404 across projects."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy import text

from agentid.store.tables import Token
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import app_routes
from tests.service import assert_error
from tests.service import create_project
from tests.service import deliver
from tests.service import hosted
from tests.service import new_alias
from tests.service import new_token

BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/projects/{project_id}"): {"catch_all": False},
    ("POST", "/projects/{project_id}/tokens"): {"scopes": ["read"]},
    ("POST", "/projects/{project_id}/email/aliases"): {"label": "x"},
    ("PATCH", "/projects/{project_id}/email/messages/{mid}"): {"unread": False},
}


class _AnyValue(dict[str, str]):
    """A value for every path parameter: the gate answers before any is looked at."""

    def __missing__(self, key: str) -> str:
        known = {
            "project_id": "acme",
            "address": "a@acme.test",
            "kind": "relay",
            "scheme": "twilio",
        }
        return known.get(key, "0" * 26)


ANY_VALUE = _AnyValue()


def api_routes(service: Service) -> list[tuple[str, str]]:
    """(method, path template) of every API route the app serves."""
    return [(method, path) for method, path, _ in app_routes(service.running.settings)]


async def test_token_is_shown_once_and_stored_hashed(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    r = await service.http.post(
        "/projects/acme/tokens", json={"scopes": ["read", "write"], "name": "ci"}
    )
    assert r.status_code == 201, r.text
    out = r.json()
    token = out["token"]
    assert out["project_id"] == "acme"
    assert out["scopes"] == ["read", "write"]
    r = await service.http.post("/projects/acme/tokens", json={})
    assert r.json()["scopes"] == ["read", "send", "write"]  # every scope unless narrowed
    assert out["name"] == "ci"
    secret = token.rsplit("_", 1)[-1]
    assert len(secret) == 43 and secret.isalnum(), token

    async with service.client(token) as client:
        for path in ("/projects", "/projects/acme"):
            r = await client.get(path)
            assert r.status_code == 200, r.text
            assert token not in r.text

    async with service.running.runtime.sessions() as session:
        row = await session.scalar(select(Token).where(Token.id == out["id"]))
        assert row is not None
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        for table in ("tokens", "audit_events"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            dump = repr(rows)
            assert token not in dump
            assert secret not in dump


async def test_bad_token_requests(service: Service) -> None:
    await create_project(service, "acme")
    for body in (
        {"scopes": []},
        {"scopes": ["admin"]},
        {"scopes": "read"},
        {"scopes": ["read"], "x": 1},
        {"name": "x" * 101},
    ):
        assert_error(await service.http.post("/projects/acme/tokens", json=body), 422)


async def test_token_for_missing_project(service: Service) -> None:
    r = await service.http.post("/projects/ghost/tokens", json={"scopes": ["read"]})
    assert_error(r, 404, "not_found")


BAD_AUTHORIZATION = [
    None,
    "",
    "Bearer",
    "Bearer\tabc",
    "Basic dGVzdDp0ZXN0",
    f"Token {ADMIN}",
    f"Bearer {ADMIN}x",
    f"Bearer {ADMIN} {ADMIN}",
    "Bearer " + "x" * 5000,
    "Bearer aid_acme_" + "A" * 43,
    "Bearer ' OR 1=1 --",
]


async def test_unauthorized(service: Service) -> None:
    await create_project(service, "acme")
    for header in BAD_AUTHORIZATION:
        headers = {} if header is None else {"Authorization": header}
        async with httpx.AsyncClient(base_url=service.running.url, headers=headers) as client:
            for path in ("/projects", "/projects/acme", "/projects/acme/email/inbox"):
                assert_error(await client.get(path), 401, "unauthorized")
            r = await client.post("/projects", json={"id": "x"})
            assert_error(r, 401, "unauthorized")


async def test_every_route_needs_a_token(service: Service) -> None:
    async with httpx.AsyncClient(base_url=service.running.url) as client:
        for method, path in api_routes(service):
            if path == "/healthz":
                continue
            url = path.format_map(ANY_VALUE)
            r = await client.request(method, url, json=BODIES.get((method, path)))
            if path.startswith("/webhooks/"):  # the provider's signature is the token
                assert r.status_code in (401, 403, 404), (path, r.status_code)
                continue
            assert_error(r, 401, "unauthorized")


async def test_bearer_scheme_is_case_insensitive(service: Service) -> None:
    async with httpx.AsyncClient(
        base_url=service.running.url, headers={"Authorization": f"bearer {ADMIN}"}
    ) as client:
        assert (await client.get("/projects")).status_code == 200


async def test_admin_routes_refuse_project_tokens(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    token = await new_token(service, "acme")
    async with service.client(token) as acme:
        assert_error(await acme.post("/projects", json={"id": "x"}), 403, "forbidden")
        r = await acme.post("/projects/acme/tokens", json={"scopes": ["read"]})
        assert_error(r, 403, "forbidden")
        assert_error(await acme.post("/projects/acme/email/provision"), 403, "forbidden")
        r = await acme.patch("/projects/acme", json={"retention_days": 1})
        assert_error(r, 403, "forbidden")
    r = await service.http.get("/projects/acme")
    assert r.json()["email_active"] is False
    assert r.json()["retention_days"] == 30
    assert_error(await service.http.get("/projects/x"), 404)


async def test_read_only_token(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    mid = (await deliver(service, "acme", alias))["id"]
    token = await new_token(service, "acme", ["read"])
    async with service.client(token) as reader:
        assert (await reader.get("/projects/acme/email/inbox")).status_code == 200
        assert (await reader.get("/projects/acme/email/aliases")).status_code == 200
        assert (await reader.get(f"/projects/acme/email/messages/{mid}")).status_code == 200
        assert (await reader.get("/projects/acme/codes")).status_code == 200
        r = await reader.post("/projects/acme/email/aliases", json={"label": "x"})
        assert_error(r, 403, "forbidden")
        r = await reader.get("/projects/acme/codes", params={"consume": "true"})
        assert_error(r, 403, "forbidden")
        r = await reader.patch(f"/projects/acme/email/messages/{mid}", json={"unread": False})
        assert_error(r, 403, "forbidden")
        assert_error(await reader.delete(f"/projects/acme/email/messages/{mid}"), 403)
        assert_error(await reader.delete(f"/projects/acme/email/aliases/{alias}"), 403)
    r = await service.http.get("/projects/acme/email/aliases")
    assert [a["address"] for a in r.json()["aliases"]] == [alias]
    assert r.json()["aliases"][0]["enabled"] is True


async def test_project_token_works_on_its_project(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    token = await new_token(service, "acme")
    async with service.client(token) as acme:
        r = await acme.post("/projects/acme/email/aliases", json={"label": "signup"})
        assert r.status_code == 201, r.text
        assert (await acme.get("/projects/acme")).json()["primary_address"] == "agent@acme.test"


@pytest.mark.parametrize("overrides", [{"api_failed_tokens_per_minute": 2}])
async def test_addresses_of_one_network_share_its_wrong_tokens(service: Service) -> None:
    """A guesser holding many addresses of one network (a /48 holds 65,536 /64s) does
    not get each one's share of wrong tokens: the /24 (here of loopback addresses) gets
    sixteen addresses' worth, then every address of it is limited, even one not seen
    yet; its project tokens still work, and another network is not limited."""
    await create_project(service, "acme")
    mine = {"Authorization": f"Bearer {await new_token(service, 'acme')}"}
    wrong = {"Authorization": "Bearer aid_acme_" + "B" * 43}

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        return httpx.AsyncClient(base_url=service.running.url, headers=wrong, transport=transport)

    for host in range(1, 17):
        async with client(f"127.0.0.{host}") as guesser:
            for _ in range(2):
                assert_error(await guesser.get("/projects"), 401, "unauthorized")
    async with client("127.0.0.17") as fresh:
        assert_error(await fresh.get("/projects"), 429, "rate_limited")
        assert (await fresh.get("/projects/acme", headers=mine)).status_code == 200
    async with client("127.0.1.1") as elsewhere:
        assert_error(await elsewhere.get("/projects"), 401, "unauthorized")


async def test_wrong_tokens_past_the_limit_are_refused(service: Service) -> None:
    """30 wrong tokens a minute from one address; then a wrong token, and the operator
    token too, get 429 and say when to come back, while a project token still works (one
    client behind a shared address cannot lock out the others). Another address, and a
    request without a token (which guesses nothing), are not counted. Guesses sent at
    once are counted as they arrive: they cannot all pass the check together."""
    await create_project(service, "acme")
    token = await new_token(service, "acme")
    wrong = {"Authorization": "Bearer aid_acme_" + "B" * 43}
    async with httpx.AsyncClient(base_url=service.running.url, headers=wrong) as guesser:
        for _ in range(3):  # no token: not counted
            assert_error(await guesser.get("/projects", headers={"Authorization": ""}), 401)
        for _ in range(20):
            assert_error(await guesser.get("/projects"), 401, "unauthorized")
        answers = await asyncio.gather(*(guesser.get("/projects") for _ in range(30)))
        assert sorted(r.status_code for r in answers) == [401] * 10 + [429] * 20
        r = await guesser.get("/projects")
        err = assert_error(r, 429, "rate_limited")["error"]
        assert "invalid tokens" in err["message"] and err["resets_at"]
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        admin = {"Authorization": f"Bearer {ADMIN}"}
        assert_error(await guesser.get("/projects", headers=admin), 429, "rate_limited")
        mine = {"Authorization": f"Bearer {token}"}
        assert (await guesser.get("/projects/acme", headers=mine)).status_code == 200
    elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(
        base_url=service.running.url,
        headers={"Authorization": f"Bearer {ADMIN}"},
        transport=elsewhere,
    ) as other:
        assert (await other.get("/projects")).status_code == 200
