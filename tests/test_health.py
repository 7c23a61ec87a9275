"""Health: one log line when a part goes down, one when it is back, none in between;
/healthz answers 503 naming every part that is down (both stores)."""

from __future__ import annotations

import logging

import pytest

from agentid.health import Health
from tests.conftest import Service


def health_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "agentid.health"]


def test_each_change_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="agentid.health")
    health = Health()
    health.mark_up("spool-writer")  # up already: nothing to say
    for n in range(1000):
        health.mark_down("spool-writer", f"failure {n}")
    health.mark_down("parse-worker", "the pool broke")
    assert health.down() == {"spool-writer": "failure 999", "parse-worker": "the pool broke"}
    health.mark_up("spool-writer")
    health.mark_up("spool-writer")
    assert health.down() == {"parse-worker": "the pool broke"}
    assert health_lines(caplog) == [
        ("ERROR", "spool-writer is down: failure 0"),
        ("ERROR", "parse-worker is down: the pool broke"),
        ("INFO", "spool-writer is up again"),
    ]


def test_down_is_a_copy() -> None:
    health = Health()
    health.down()["spool-writer"] = "not really"
    assert health.down() == {}


async def test_healthz_names_what_is_down(service: Service) -> None:
    health = service.running.runtime.health
    ok = {"status": "ok", "smtp": True, "database": True, "down": {}}
    r = await service.http.get("/healthz")
    assert (r.status_code, r.json()) == (200, ok)

    health.mark_down("spool-writer", "the writer process was killed by SIGKILL")
    health.mark_down("parse-worker", "the pool broke")
    r = await service.http.get("/healthz")
    assert r.status_code == 503, r.text
    assert r.json() == {
        "status": "unavailable",
        "smtp": True,
        "database": True,
        "down": {
            "spool-writer": "the writer process was killed by SIGKILL",
            "parse-worker": "the pool broke",
        },
    }

    health.mark_up("spool-writer")
    r = await service.http.get("/healthz")
    assert r.status_code == 503, r.text
    assert r.json()["down"] == {"parse-worker": "the pool broke"}

    health.mark_up("parse-worker")
    r = await service.http.get("/healthz")
    assert (r.status_code, r.json()) == (200, ok)
