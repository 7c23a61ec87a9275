"""``agentid phone ...`` against a running agentid on the sandbox (SQLite: the commands
are thin, the API under them is tested on both stores)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import Service
from tests.service import listening
from tests.test_cli_live import cli


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_phone_session(service: Service) -> None:
    await cli(service, "project", "create", "acme")
    made = json.loads(
        (await cli(service, "phone", "provision", "acme", "--area-code", "415", "--json")).stdout
    )
    assert made["number"].startswith("+1415555") and made["provider"] == "sandbox"
    shown = (await cli(service, "phone", "show", "acme")).stdout
    assert made["number"] in shown and "sandbox" in shown

    waiting = asyncio.create_task(
        cli(service, "phone", "messages", "acme", "--wait", "20", "--json")
    )
    await listening(service, "acme", timeout=20)
    injected = await cli(
        service,
        "phone",
        "inject",
        "acme",
        "--from",
        "+15005550006",
        "--body",
        "Your code is 246810",
    )
    sms_id = injected.stdout.strip()
    (listed,) = json.loads((await waiting).stdout)["messages"]
    assert listed["id"] == sms_id and listed["codes"][0]["value"] == "246810"
    assert (await cli(service, "code", "acme", "--channel", "sms")).stdout == "246810\n"

    kept = json.loads((await cli(service, "phone", "keep", "acme", "--json")).stdout)
    assert kept["keep"] is True
    dry = json.loads(
        (await cli(service, "phone", "gc", "--inactive-days", "1", "--dry-run", "--json")).stdout
    )
    assert dry == {"dry_run": True, "numbers": []}
    released = await cli(service, "phone", "release", "acme")
    assert made["number"] in released.stderr
    gone = await cli(service, "phone", "show", "acme", check=False)
    assert gone.returncode == 1 and gone.stderr.startswith("error: ")
    missing = await cli(
        service, "phone", "inject", "acme", "--from", "x", "--body", "y", check=False
    )
    assert missing.returncode == 1 and missing.stdout == ""
