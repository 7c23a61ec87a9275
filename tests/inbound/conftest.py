"""Fixtures for the receiving side: one agentid per module and backend, shared by its tests.

Starting a service costs about a second, so each module starts one per backend (with the
settings in its ``OVERRIDES``) and every test makes its own project on its own domain.
Tests that restart the service start their own with ``start_service``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from agentid.server import running
from tests.conftest import ADMIN, PG_URL, Service, make_settings, pg_schema, require_backend


@asynccontextmanager
async def start_service(
    data_dir: Path, schema: str | None = None, **overrides: Any
) -> AsyncIterator[Service]:
    """A running agentid on ``data_dir`` (SQLite) or on ``schema`` (PostgreSQL)."""
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


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 15
) -> None:
    """Poll ``check`` (plain or async) until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done = check()
        if done if isinstance(done, bool) else await done:
            return
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_backend(request: pytest.FixtureRequest) -> str:
    require_backend(request.param)
    return str(request.param)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(
    module_backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Service]:
    """One agentid for the whole module, with the module's ``OVERRIDES`` (a dict, or a
    function of a scratch directory returning one)."""
    scratch = tmp_path_factory.mktemp("inbound")
    overrides = getattr(request.module, "OVERRIDES", {})
    if callable(overrides):
        overrides = overrides(scratch)
    async with serving(scratch / "data", module_backend, **overrides) as (service, _):
        yield service
