"""A project's own provider accounts: set, shown only as scheme, host and fingerprint,
stored encrypted, never returned, logged or echoed; the service-wide URL otherwise.

The app runs in this process (lifespan and all) behind httpx's ASGI transport, so a test
can hand it a registry holding a third-party HTTP adapter (``vendor``) through the route's
own dependency, and read the logs with caplog.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from agentid.app import create_app
from agentid.config import Settings
from agentid.crypto import SecretBox
from agentid.errors import ValidationFailed
from agentid.providers.account_routes import provider_registry
from agentid.providers.accounts import provider_url_for
from agentid.providers.accounts import relay_for
from agentid.providers.base import Sent
from agentid.providers.mail.smtp import SmtpRelay
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import register_builtins
from agentid.providers.schemas import ProviderKind
from agentid.runtime import Runtime
from tests.conftest import ADMIN
from tests.conftest import PG_URL
from tests.conftest import make_settings
from tests.conftest import pg_schema
from tests.service import assert_error

SECRET = "Pw-7xQ2mZr9LkT4vN8bY-hunter2"
PROJECT_URL = f"smtp://relay-user:{SECRET}@relay.example:587"
SERVICE_URL = "smtp://service-user:service-Pw-55aa@service-relay.example:25"


class VendorRelay:
    """What a third-party HTTP relay adapter looks like to the registry."""

    max_recipients = 500
    signs_dkim = True

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    async def send(self, sender: str, recipients: Sequence[str], message: bytes) -> Sent:
        return Sent(message_id=None)


def vendor(url: ProviderUrl, transports: Transports) -> VendorRelay:
    url.only_params(("echo",))
    if not url.password:
        raise ValidationFailed("vendor:// needs the API key as the password")
    if "echo" in url.query:  # a careless factory: its message holds the key
        raise ValidationFailed(f"vendor:// refuses the key {url.password}")
    return VendorRelay(url.endpoint("https://api.vendor.example"))


def open_client(transport: httpx.ASGITransport, token: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(transport=transport, base_url="http://agentid", headers=headers)


@dataclass
class Api:
    transport: httpx.ASGITransport
    http: httpx.AsyncClient  # with the admin token
    runtime: Runtime
    settings: Settings
    registry: Registry

    def client(self, token: str) -> httpx.AsyncClient:
        return open_client(self.transport, token)


@pytest.fixture
async def api(backend: str, tmp_path: Path) -> AsyncIterator[Api]:
    registry = Registry()
    register_builtins(registry)
    registry.register("vendor", vendor)
    async with AsyncExitStack() as stack:
        extra: dict[str, Any] = {"relay_url": SERVICE_URL}
        if backend == "postgresql":
            schema = await stack.enter_async_context(pg_schema())
            extra |= {"database_url": PG_URL, "database_schema": schema}
        settings = make_settings(tmp_path / "data", **extra)
        app = create_app(settings)
        app.dependency_overrides[provider_registry] = lambda: registry
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        http = await stack.enter_async_context(open_client(transport, ADMIN))
        yield Api(transport, http, app.state.runtime, settings, registry)


async def new_project(api: Api, project_id: str) -> None:
    r = await api.http.post("/projects", json={"id": project_id})
    assert r.status_code == 201, r.text


def encodings(secret: str) -> list[bytes]:
    """``secret`` as it could sit in a file: plain, hex, or base64 at any alignment."""
    raw = secret.encode()
    found = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode, base64.b32encode):
            whole = encode(b"\0" * shift + raw).rstrip(b"=")
            found.append(whole[8:-8])  # the middle, whatever surrounds the secret
    return found


async def stored_bytes(api: Api) -> bytes:
    """Everything the store holds about accounts: the SQLite files, or on PostgreSQL the
    project_providers and audit_events rows as the database returns them."""
    if api.runtime.engine.dialect.name == "sqlite":
        data = api.settings.data_dir
        return b"".join(p.read_bytes() for p in data.glob("agentid.db*"))
    async with api.runtime.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM project_providers"))).all()
        rows += (await conn.execute(text("SELECT * FROM audit_events"))).all()
    return b"".join(v if isinstance(v, bytes) else str(v).encode() for r in rows for v in r)


async def test_stored_encrypted_and_never_returned(api: Api) -> None:
    await new_project(api, "acme")
    r = await api.http.put("/projects/acme/providers/relay", json={"url": PROJECT_URL})
    assert r.status_code == 200, r.text
    shown = r.json()
    assert {k: shown[k] for k in ("kind", "source", "scheme", "host")} == {
        "kind": "relay",
        "source": "project",
        "scheme": "smtp",
        "host": "relay.example",
    }
    fingerprint = shown["fingerprint"]
    assert len(fingerprint) == 12 and int(fingerprint, 16) >= 0
    # keyed: not a plain hash of the URL or of its secret, and another key gives another
    for plain in (PROJECT_URL, SECRET):
        assert hashlib.sha256(plain.encode()).hexdigest()[:12] != fingerprint
    assert SecretBox("another-key").fingerprint(PROJECT_URL.encode()) != fingerprint
    assert api.runtime.secrets.fingerprint(PROJECT_URL.encode()) == fingerprint

    listed = await api.http.get("/projects/acme/providers")
    assert listed.status_code == 200, listed.text
    relay, phone, dns = listed.json()["providers"]
    assert relay == shown
    assert (phone["kind"], phone["source"], phone["scheme"]) == ("phone", "service", "sandbox")
    assert (dns["kind"], dns["source"]) == ("dns", "none")
    for answer in (r, listed):
        assert SECRET not in answer.text and "relay-user" not in answer.text

    stored = await stored_bytes(api)
    assert b"relay.example" not in stored  # the whole URL is sealed, not just the password
    for encoded in encodings(SECRET) + encodings(PROJECT_URL):
        assert encoded not in stored, encoded
    assert await provider_url_for(api.runtime, "acme", ProviderKind.RELAY) == PROJECT_URL


async def test_fallback_to_the_service_wide_url(api: Api) -> None:
    await new_project(api, "acme")
    await new_project(api, "beta")
    rt = api.runtime
    assert await provider_url_for(rt, "acme", ProviderKind.RELAY) == SERVICE_URL
    assert await provider_url_for(rt, "acme", ProviderKind.DNS) is None
    relay = (await api.http.get("/projects/acme/providers")).json()["providers"][0]
    assert (relay["source"], relay["host"]) == ("service", "service-relay.example")
    assert "service-Pw-55aa" not in json.dumps(relay)

    r = await api.http.put("/projects/acme/providers/relay", json={"url": PROJECT_URL})
    assert r.status_code == 200, r.text
    assert await provider_url_for(rt, "acme", ProviderKind.RELAY) == PROJECT_URL
    assert await provider_url_for(rt, "beta", ProviderKind.RELAY) == SERVICE_URL
    built = await relay_for(rt, "acme", Transports(), api.registry)
    assert isinstance(built, SmtpRelay) and (built.host, built.port) == ("relay.example", 587)

    # replaced: the new URL applies, with a new fingerprint
    other = f"smtp://u2:{SECRET}-2@relay2.example"
    again = await api.http.put("/projects/acme/providers/relay", json={"url": other})
    assert again.status_code == 200 and again.json()["fingerprint"] != r.json()["fingerprint"]
    assert await provider_url_for(rt, "acme", ProviderKind.RELAY) == other

    r = await api.http.delete("/projects/acme/providers/relay")
    assert r.status_code == 204, r.text
    assert await provider_url_for(rt, "acme", ProviderKind.RELAY) == SERVICE_URL
    relay = (await api.http.get("/projects/acme/providers")).json()["providers"][0]
    assert relay["source"] == "service"
    assert_error(await api.http.delete("/projects/acme/providers/relay"), 404, "not_found")
    assert_error(await api.http.delete("/projects/acme/providers/phone"), 404, "not_found")


async def test_puts_and_deletes_at_once_each_get_a_clear_answer(api: Api) -> None:
    """A PUT loaded the account, then changed it: a DELETE between the two left it no row
    to change, a 500. Both are one statement now; of three DELETEs at once, one removes it."""
    await new_project(api, "acme")
    path = "/projects/acme/providers/relay"
    for _ in range(3):
        answers = await asyncio.gather(
            *(api.http.put(path, json={"url": PROJECT_URL}) for _ in range(2)),
            *(api.http.delete(path) for _ in range(2)),
        )
        statuses = [r.status_code for r in answers]
        assert set(statuses) <= {200, 204, 404} and statuses[:2] == [200, 200], statuses
    assert (await api.http.put(path, json={"url": PROJECT_URL})).status_code == 200
    answers = await asyncio.gather(*(api.http.delete(path) for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [204, 404, 404], [r.text for r in answers]
    assert await provider_url_for(api.runtime, "acme", ProviderKind.RELAY) == SERVICE_URL


async def test_http_override_and_kinds(api: Api, tmp_path: Path) -> None:
    await new_project(api, "acme")
    url = f"vendor+http://:{SECRET}@127.0.0.1:9000/v3"
    r = await api.http.put("/projects/acme/providers/relay", json={"url": url})
    assert r.status_code == 200, r.text
    assert (r.json()["scheme"], r.json()["host"]) == ("vendor+http", "127.0.0.1")
    built = await relay_for(api.runtime, "acme", Transports(), api.registry)
    assert isinstance(built, VendorRelay) and built.endpoint == "http://127.0.0.1:9000/v3"

    r = await api.http.put(
        "/projects/acme/providers/dns", json={"url": f"zonefile://{tmp_path}/zones"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["scheme"], r.json()["host"]) == ("zonefile", None)
    for kind in ("sms", "RELAY", "relay2"):
        assert_error(await api.http.put(f"/projects/acme/providers/{kind}", json={"url": url}), 422)


@pytest.mark.parametrize(
    ("kind", "url", "says"),
    [
        ("relay", f"lmtp://user:{SECRET}@relay.example:465", "unknown provider scheme 'lmtp'"),
        ("relay", f"smtp://user:{SECRET}@relay.example:99999", "the port must be a number"),
        ("relay", f"smtp+https://user:{SECRET}@relay.example", "unknown transport '+https'"),
        ("relay", f"not a url {SECRET}", "no spaces or control characters"),
        ("relay", f"vendor://:{SECRET}@?echo=1", "refuses the key ***"),
        ("dns", f"smtp://user:{SECRET}@relay.example", "smtp:// is not a DNS provider"),
        ("phone", f"vendor://:{SECRET}@", "vendor:// is not a phone provider"),
        ("relay", f"smtp://user:{SECRET}@relay.example/{'x' * 2100}", "at most 2048"),
    ],
)
async def test_bad_urls_are_422_without_the_url(
    api: Api, caplog: pytest.LogCaptureFixture, kind: str, url: str, says: str
) -> None:
    caplog.set_level(logging.DEBUG)
    await new_project(api, "acme")
    r = await api.http.put(f"/projects/acme/providers/{kind}", json={"url": url})
    message = assert_error(r, 422, "validation_failed")["error"]["message"]
    assert says in message, message
    assert SECRET not in r.text and "relay.example" not in r.text
    found = await provider_url_for(api.runtime, "acme", ProviderKind(kind))
    assert found in (None, SERVICE_URL, "sandbox://")  # the service's (sandbox: the default)
    assert SECRET not in caplog.text


async def test_short_credentials_leave_messages_readable(api: Api) -> None:
    await new_project(api, "acme")
    r = await api.http.put("/projects/acme/providers/relay", json={"url": "lmtp://u:n@h"})
    message = assert_error(r, 422)["error"]["message"]
    assert "unknown provider scheme 'lmtp'" in message, message
    r = await api.http.put("/projects/acme/providers/relay", json={"url": "vendor://:k3y@?echo"})
    assert assert_error(r, 422)["error"]["message"].endswith("refuses the key ***")


async def test_bad_bodies_are_422_without_the_url(api: Api) -> None:
    await new_project(api, "acme")
    for body in ({"url": ""}, {"url": 5}, {}, {"url": PROJECT_URL, "password": SECRET}):
        r = await api.http.put("/projects/acme/providers/relay", json=body)
        assert_error(r, 422, "validation_failed")
        assert SECRET not in r.text


async def test_no_secret_in_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await new_project(api, "acme")
    assert (
        await api.http.put("/projects/acme/providers/relay", json={"url": PROJECT_URL})
    ).is_success
    assert (await api.http.get("/projects/acme/providers")).is_success
    await provider_url_for(api.runtime, "acme", ProviderKind.RELAY)
    assert (await api.http.delete("/projects/acme/providers/relay")).is_success
    logged = [json.dumps(vars(record), default=repr) for record in caplog.records]
    assert any("provider account set" in line for line in logged)
    assert not [line for line in logged if SECRET in line or "relay-user" in line]


async def test_unknown_project_and_project_tokens(api: Api) -> None:
    await new_project(api, "acme")
    missing = await api.http.get("/projects/ghost")
    for method, path, body in [
        ("GET", "/projects/ghost/providers", None),
        ("PUT", "/projects/ghost/providers/relay", {"url": PROJECT_URL}),
        ("DELETE", "/projects/ghost/providers/relay", None),
    ]:
        r = await api.http.request(method, path, json=body)
        assert_error(r, 404, "not_found")
        assert r.json() == missing.json()

    r = await api.http.post("/projects/acme/tokens", json={})
    token = r.json()["token"]
    await new_project(api, "beta")
    async with api.client(token) as acme:
        for project in ("acme", "beta", "ghost"):
            on_tokens = await acme.get(f"/projects/{project}/tokens")  # another admin route
            for method, path, body in [
                ("GET", f"/projects/{project}/providers", None),
                ("PUT", f"/projects/{project}/providers/relay", {"url": PROJECT_URL}),
                ("DELETE", f"/projects/{project}/providers/relay", None),
            ]:
                r = await acme.request(method, path, json=body)
                assert_error(r, 403, "forbidden")
                assert (r.status_code, r.json()) == (on_tokens.status_code, on_tokens.json())
    assert await provider_url_for(api.runtime, "acme", ProviderKind.RELAY) == SERVICE_URL
