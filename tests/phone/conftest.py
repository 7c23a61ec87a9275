"""Fixtures for phone tests: a local Twilio and a local Plivo per test (stocked with a
few numbers), an HTTP client, and adapters built through the registry to call them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator

import httpx
import pytest

from agentid.providers.base import PhoneProvider
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import register_builtins
from tests.phone import plivo_server
from tests.phone import twilio_server
from tests.phone.contract import serving
from tests.phone.plivo_server import Plivo
from tests.phone.twilio_server import Twilio


def build(url: str, http: httpx.AsyncClient | None = None) -> PhoneProvider:
    """The phone provider a URL names, as the app would build it."""
    registry = Registry()
    register_builtins(registry)
    return registry.phone(url, Transports(http=http or httpx.AsyncClient()))


@pytest.fixture
def twilio() -> Iterator[Twilio]:
    vendor = Twilio()
    vendor.stock += [twilio_server.stocked(f"+1415555010{n}") for n in range(5)]
    vendor.stock += [twilio_server.stocked("+12125550100", address="local")]
    vendor.stock += [twilio_server.stocked("+18005550100", "TollFree")]
    with serving(vendor):
        yield vendor


@pytest.fixture
def plivo() -> Iterator[Plivo]:
    vendor = Plivo()
    vendor.stock += [plivo_server.stocked(f"1415555020{n}") for n in range(5)]
    vendor.stock += [plivo_server.stocked("18005550200", "tollfree")]
    with serving(vendor):
        yield vendor


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client
