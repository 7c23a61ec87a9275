"""Rotating the service key: what the old key sealed still opens while it is listed in
AGENTID_PREVIOUS_SECRET_KEYS; `agentid secrets rotate` seals it all again under the new
key, after which the old one can go; a key that opens nothing is one clear error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from agentid.cli import app as cli
from agentid.config import Settings
from agentid.crypto import SecretBox
from agentid.errors import AgentIDError
from agentid.providers.accounts import provider_url_for
from agentid.providers.schemas import ProviderKind
from agentid.store.tables import Domain
from agentid.store.tables import ProjectProvider
from agentid.store.tables import TotpSecret
from tests.conftest import PG_URL
from tests.conftest import Service
from tests.conftest import pg_schema
from tests.conftest import start_service
from tests.service import assert_error
from tests.service import create_project
from tests.service import provision

OLD, NEW = "old-service-key-1", "new-service-key-2"
URL = "smtp://relay-user:Rotate-Me-9x7Q@relay.example:587"
TOTP = {"label": "github", "secret": "JBSWY3DPEHPK3PXP"}
WRONG_KEY = "does not open with AGENTID_SECRET_KEY nor any of AGENTID_PREVIOUS_SECRET_KEYS"


def test_secret_box_seals_under_the_current_key_and_opens_under_any() -> None:
    old_sealed = SecretBox(OLD).seal(b"dkim")
    both = SecretBox(NEW, OLD)
    assert both.open(old_sealed) == b"dkim"
    assert SecretBox(NEW).open(both.seal(b"new")) == b"new"  # sealed under NEW only
    with pytest.raises(AgentIDError, match=WRONG_KEY):
        SecretBox(NEW).open(old_sealed)
    resealed = both.reseal(old_sealed)
    assert SecretBox(NEW).open(resealed) == b"dkim"
    with pytest.raises(AgentIDError, match=WRONG_KEY):
        SecretBox(OLD).open(resealed)
    with pytest.raises(AgentIDError, match=WRONG_KEY):
        SecretBox("third").reseal(old_sealed)
    # fingerprints follow the current key only
    assert (
        both.fingerprint(b"u")
        == SecretBox(NEW).fingerprint(b"u")
        != SecretBox(OLD).fingerprint(b"u")
    )


def test_previous_keys_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).previous_keys() == []
    monkeypatch.setenv("AGENTID_PREVIOUS_SECRET_KEYS", f" {OLD}, ,older-0 ,")
    settings = Settings(data_dir=tmp_path)
    assert settings.previous_keys() == [OLD, "older-0"]
    assert OLD not in repr(settings)


@pytest.fixture
async def schema(backend: str) -> AsyncIterator[str | None]:
    """The same store across restarts: SQLite in the data dir (None), or a fresh
    PostgreSQL schema."""
    if backend == "sqlite":
        yield None
        return
    async with pg_schema() as made:
        yield made


def serving(
    data: Path, schema: str | None, key: str, *previous: str
) -> AbstractAsyncContextManager[Service]:
    """A running agentid whose service key is ``key`` and previous keys ``previous``."""
    extra = {"previous_secret_keys": ",".join(previous)} if previous else {}
    return start_service(data, schema, secret_key=key, **extra)


async def rotate(data: Path, schema: str | None, key: str, *previous: str) -> Any:
    """`agentid secrets rotate --data-dir D` with these keys, in a thread (it runs its own
    event loop)."""
    env = {
        "AGENTID_SECRET_KEY": key,
        "AGENTID_PREVIOUS_SECRET_KEYS": ",".join(previous) or None,
        "AGENTID_DATABASE_URL": PG_URL if schema else None,
        "AGENTID_DATABASE_SCHEMA": schema,
    }
    args = ["secrets", "rotate", "--data-dir", str(data)]
    return await asyncio.to_thread(CliRunner().invoke, cli, args, env=env)


async def sealed_values(service: Service) -> list[bytes]:
    async with service.running.runtime.sessions() as session:
        keys = (await session.scalars(select(Domain.dkim_private_key))).all()
        urls = (await session.scalars(select(ProjectProvider.url_sealed))).all()
        totp = (await session.scalars(select(TotpSecret.secret_sealed))).all()
    return [*keys, *urls, *totp]


async def test_rotation(tmp_path: Path, schema: str | None) -> None:
    data = tmp_path / "data"
    async with serving(data, schema, OLD) as service:
        await create_project(service, "acme", "acme.test")
        await provision(service, "acme")
        r = await service.http.put("/projects/acme/providers/relay", json={"url": URL})
        assert r.status_code == 200, r.text
        r = await service.http.post("/projects/acme/totp", json=TOTP)
        assert r.status_code == 201, r.text
        under_old = await sealed_values(service)
    assert len(under_old) == 3

    # The new key alone opens nothing the old one sealed: a clear error, not garbage.
    async with serving(data, schema, NEW) as service:
        r = await service.http.get("/projects/acme/providers")
        assert WRONG_KEY in assert_error(r, 500)["error"]["message"]
        with pytest.raises(AgentIDError, match=WRONG_KEY):
            await provider_url_for(service.running.runtime, "acme", ProviderKind.RELAY)
    done = await rotate(data, schema, NEW)
    assert done.exit_code == 1
    assert done.stderr.startswith("error: the DKIM key of acme.test: a stored secret does not")

    # With the old key listed as previous, everything opens; new secrets go under NEW.
    async with serving(data, schema, NEW, OLD) as service:
        rt = service.running.runtime
        assert await provider_url_for(rt, "acme", ProviderKind.RELAY) == URL
        assert (await service.http.get("/projects/acme/providers")).status_code == 200
        assert all(b"PRIVATE KEY" in rt.secrets.open(v) for v in under_old[:1])

    done = await rotate(data, schema, NEW, OLD)
    assert done.exit_code == 0, done.output
    assert done.stdout == (
        "re-encrypted 3 secrets under the current key"
        " (1 DKIM keys, 1 provider accounts, 1 authenticator secrets)\n"
    )

    # Now the new key alone opens everything, and the old one nothing.
    async with serving(data, schema, NEW) as service:
        rt = service.running.runtime
        now = await sealed_values(service)
        assert len(now) == 3 and set(now).isdisjoint(under_old)
        assert b"PRIVATE KEY" in SecretBox(NEW).open(now[0])
        assert SecretBox(NEW).open(now[1]) == URL.encode()
        assert SecretBox(NEW).open(now[2]) == TOTP["secret"].encode()
        assert (await service.http.get("/projects/acme/totp/github/code")).status_code == 200
        for value in now:
            with pytest.raises(AgentIDError):
                SecretBox(OLD).open(value)
        assert await provider_url_for(rt, "acme", ProviderKind.RELAY) == URL
        relay = (await service.http.get("/projects/acme/providers")).json()["providers"][0]
        assert relay["fingerprint"] == SecretBox(NEW).fingerprint(URL.encode())

    # Only the old key: refused as a whole, nothing changed.
    done = await rotate(data, schema, OLD)
    assert done.exit_code == 1 and WRONG_KEY in done.stderr
    async with serving(data, schema, NEW) as service:
        assert await sealed_values(service) == now


def test_rotate_without_a_store_says_so(tmp_path: Path) -> None:
    env = {"AGENTID_SECRET_KEY": NEW, "AGENTID_DATABASE_URL": None}
    done = CliRunner().invoke(
        cli, ["secrets", "rotate", "--data-dir", str(tmp_path / "none")], env=env
    )
    assert done.exit_code == 1
    database = tmp_path / "none" / "agentid.db"
    assert done.stderr == f"error: no database at {database}: is the data dir right (--data-dir)?\n"
    assert not (tmp_path / "none").exists()
