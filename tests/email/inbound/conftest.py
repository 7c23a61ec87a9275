"""Fixtures for the receiving side: one agentid per module and backend, shared by its tests.

Starting a service costs about a second, so each module starts one per backend (with the
settings in its ``OVERRIDES``) and every test makes its own project on its own domain.
Tests that restart the service start their own with ``tests.conftest.start_service``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.conftest import Service, require_backend, serving


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
