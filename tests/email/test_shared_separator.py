"""The separator between project and tag on the shared domain is a setting."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Service
from tests.service import deliver
from tests.service import hosted
from tests.service import message
from tests.service import new_alias


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {"shared_domain": "agents.example", "shared_separator": "."}


async def test_configured_separator(service: Service) -> None:
    await hosted(service, "acme")
    address = await new_alias(service, "acme", label="signup")
    assert re.fullmatch(r"acme\.signup-[a-z0-9]{6}@agents\.example", address), address
    entry = await deliver(service, "acme", "acme.news@agents.example", message("x@y.example"))
    assert entry["to"] == ["acme.news@agents.example"]
