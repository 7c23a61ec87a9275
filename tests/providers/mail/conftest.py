"""Fixtures for relay tests: a local SendGrid per test, an HTTP client, and the
``sendgrid+http://`` relay built through the registry to call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator

import httpx
import pytest

from agentid.providers.mail.sendgrid import SendGridRelay
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import register_builtins
from tests.providers.mail.sendgrid_server import KEY
from tests.providers.mail.sendgrid_server import SendGrid
from tests.providers.mail.sendgrid_server import running_sendgrid


def build(url: str, http: httpx.AsyncClient | None = None) -> SendGridRelay:
    """The relay a ``sendgrid`` URL names, as the app would build it."""
    registry = Registry()
    register_builtins(registry)
    built = registry.relay(url, Transports(http=http or httpx.AsyncClient()))
    assert isinstance(built, SendGridRelay)
    return built


@pytest.fixture
def sendgrid() -> Iterator[SendGrid]:
    with running_sendgrid(KEY) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def relay(sendgrid: SendGrid, http: httpx.AsyncClient) -> SendGridRelay:
    return build(sendgrid.url(), http)
