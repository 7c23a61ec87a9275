"""Shared fixtures: a real agentid (API + SMTP on OS-chosen loopback ports) per test,
on SQLite (a fresh file) and on PostgreSQL (a fresh schema, dropped afterwards); and
``start_service`` / ``serving`` for tests that start their own. What tests do with a
running agentid is in tests/service.py.

PostgreSQL is at 127.0.0.1:5432, database ``test``, user ``postgres``. Without it the
PostgreSQL variants skip with the reason, unless AGENTID_REQUIRE_POSTGRES=1 (CI), when
they fail.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import settings as hypothesis_settings

from agentid.config import Settings
from agentid.server import Running
from agentid.server import running

PG_URL = os.environ.get("AGENTID_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("AGENTID_REQUIRE_POSTGRES") == "1"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ADMIN = "test-admin-token-" + "x" * 20

# Property tests check what is parsed, not how fast (bench/ does): no per-example deadline,
# which a GC pause or a busy machine could trip.
hypothesis_settings.register_profile("agentid", deadline=None)
hypothesis_settings.load_profile("agentid")


def _pg_reachable() -> str | None:
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}"
    return None


_PG_PROBLEM: str | None = None
_PG_CHECKED = False


def pg_problem() -> str | None:
    global _PG_PROBLEM, _PG_CHECKED
    if not _PG_CHECKED:
        _PG_PROBLEM, _PG_CHECKED = _pg_reachable(), True
    return _PG_PROBLEM


def require_backend(backend: str) -> None:
    """The one place a PostgreSQL variant is skipped when no server answers (or fails,
    with AGENTID_REQUIRE_POSTGRES=1)."""
    if backend == "postgresql" and (problem := pg_problem()):
        if REQUIRE_PG:
            pytest.fail(f"AGENTID_REQUIRE_POSTGRES=1 but {problem}")
        pytest.skip(problem)


TESTS_APP = "agentid-tests"  # the application_name of the tests' own connections


@asynccontextmanager
async def pg_schema(prefix: str = "t_") -> AsyncIterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards."""
    import asyncpg

    schema = prefix + secrets.token_hex(6)
    conn = await asyncpg.connect(PG_URL, server_settings={"application_name": TESTS_APP})
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    require_backend(request.param)
    return str(request.param)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "host": "127.0.0.1",
        "http_port": 0,
        "smtp_port": 0,
        "admin_token": ADMIN,
        "secret_key": "test-secret-key",
        "shutdown_grace_seconds": 2,
        "log_level": "WARNING",
        "parse_processes": 0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Service:
    """A running agentid and clients for it."""

    running: Running
    http: httpx.AsyncClient

    @property
    def smtp_port(self) -> int:
        return self.running.smtp_port

    def client(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.running.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test module wants changed (override this fixture)."""
    return {}


@asynccontextmanager
async def start_service(
    data_dir: Path, schema: str | None = None, **overrides: Any
) -> AsyncIterator[Service]:
    """A running agentid on ``data_dir`` (SQLite) or on ``schema`` (PostgreSQL): for tests
    that stop and start one, or need settings a fixture does not give."""
    if schema is not None:
        overrides.update(database_url=PG_URL, database_schema=schema)
    async with (
        running(make_settings(data_dir, **overrides)) as run,
        httpx.AsyncClient(
            base_url=run.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
        ) as http,
    ):
        yield Service(run, http)


@asynccontextmanager
async def serving(
    data_dir: Path, backend: str, **overrides: Any
) -> AsyncIterator[tuple[Service, str | None]]:
    """A running agentid on ``backend``, with the PostgreSQL schema it uses (or None)."""
    if backend == "postgresql":
        async with pg_schema() as schema, start_service(data_dir, schema, **overrides) as s:
            yield s, schema
    else:
        async with start_service(data_dir, **overrides) as s:
            yield s, None


@asynccontextmanager
async def backend_store(backend: str) -> AsyncIterator[str | None]:
    """The PostgreSQL schema for ``backend`` (None for SQLite), for a test that starts
    services on one store more than once."""
    if backend == "postgresql":
        async with pg_schema() as schema:
            yield schema
    else:
        yield None


@pytest.fixture
async def service(
    backend: str, tmp_path: Path, overrides: dict[str, Any]
) -> AsyncIterator[Service]:
    async with serving(tmp_path / "data", backend, **overrides) as (started, _):
        yield started


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    yield SHARED


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_backend(request: pytest.FixtureRequest) -> str:
    require_backend(request.param)
    return str(request.param)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(
    module_backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Service]:
    """One agentid for the whole module (the tests of a module that asks for it share it),
    with the module's ``OVERRIDES`` (a dict, or a function of a scratch directory
    returning one)."""
    scratch = tmp_path_factory.mktemp("shared")
    overrides = getattr(request.module, "OVERRIDES", {})
    if callable(overrides):
        overrides = overrides(scratch)
    async with serving(scratch / "data", module_backend, **overrides) as (service, _):
        yield service
