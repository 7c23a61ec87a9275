"""``agentid dns plan|apply|verify`` against a real agentid: ``plan --zone`` is a fragment
NSD takes as it is, the tables, the JSON, and errors as one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dns.zone
import pytest

from tests.conftest import Service
from tests.dns.test_routes import QUIET
from tests.service import create_project
from tests.service import provision
from tests.test_cli_live import cli


@pytest.fixture
def overrides() -> dict[str, Any]:
    return dict(QUIET) | {"public_ip": "203.0.113.7"}


async def test_dns_commands(service: Service, tmp_path: Path) -> None:
    await create_project(service, "acme", "acme.test")
    await provision(service, "acme")
    zone = (await cli(service, "dns", "plan", "acme", "--zone")).stdout
    lines = zone.splitlines()
    assert lines[0].startswith(";") and lines[-1].startswith("; PTR 7.113.0.203.in-addr.arpa.")
    records = [line for line in lines if not line.startswith(";")]
    assert all(line.split()[0].endswith(".") for line in records)
    assert len(records) == 5  # MX, A, SPF, DKIM (one line, several strings), DMARC
    path = tmp_path / "acme.test.zone"
    path.write_text(zone)
    parsed = dns.zone.from_file(
        str(path), origin="acme.test.", relativize=False, check_origin=False
    )
    assert len(list(parsed.iterate_rdatas())) == 5

    shown = (await cli(service, "dns", "plan", "acme")).stdout
    assert "mx.acme.test" in shown and "PTR" in shown
    applied = json.loads((await cli(service, "dns", "apply", "acme", "--json")).stdout)
    assert applied["provider"] == "zonefile"
    assert {r["status"] for r in applied["records"]} == {"unchanged"}
    checked = json.loads((await cli(service, "dns", "verify", "acme", "--json")).stdout)
    assert checked["status"] == "unverified"
    assert "error" in (await cli(service, "dns", "verify", "acme")).stdout

    await create_project(service, "bare")
    failed = await cli(service, "dns", "plan", "bare", check=False)
    assert failed.returncode == 1 and failed.stderr.startswith("error: ")
    assert failed.stdout == ""
