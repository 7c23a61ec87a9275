"""Deliveries come from the durable events table, on both stores: what was written while
agentid was stopped, and what was still to be retried when it stopped, is delivered once
it is started again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from agentid.cli import app as cli
from agentid.events import Kind
from agentid.store import event_log
from agentid.store.db import create_engine
from agentid.store.db import session_factory
from tests.conftest import PG_URL
from tests.conftest import Service
from tests.conftest import backend_store
from tests.conftest import make_settings
from tests.conftest import start_service
from tests.service import create_project
from tests.service import eventually
from tests.webhooks.helpers import FAST
from tests.webhooks.helpers import add_webhook
from tests.webhooks.helpers import append_event
from tests.webhooks.helpers import deliveries
from tests.webhooks.receiver import receiving
from tests.webhooks.receiver import verified

FILTERED = {"kind": "sms.filtered", "error_code": "30038", "at": "2030-01-01T10:00:00Z"}


async def pending_once(service: Service, hook: dict[str, Any]) -> bool:
    found = await deliveries(service, hook)
    return [(d["status"], d["attempts"]) for d in found] == [("pending", 1)]


async def write_while_stopped(data: Path, schema: str | None, error_code: str) -> None:
    """An event written by someone else while agentid is not running."""
    extra = {} if schema is None else {"database_url": PG_URL, "database_schema": schema}
    engine = create_engine(make_settings(data, **extra))
    try:
        async with session_factory(engine).begin() as session:
            row = event_log.row(
                "acme", Kind.SMS_FILTERED.value, None, {**FILTERED, "error_code": error_code}
            )
            await event_log.append_async(session, [row])
    finally:
        await engine.dispose()


async def settled(service: Service, hook: dict[str, Any], count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def done() -> bool:
        r = await service.http.get(f"/projects/acme/webhooks/{hook['id']}/deliveries")
        found[:] = r.json()["deliveries"]
        return len(found) == count and all(d["status"] == "delivered" for d in found)

    await eventually(done, f"{count} deliveries delivered")
    return found


async def test_what_was_pending_or_written_while_stopped_is_delivered_after_start(
    backend: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    async with backend_store(backend) as schema, receiving(500) as receiver:
        slow = {**FAST, "webhook_retry_seconds": 1.0}  # the retry is due after the restart
        async with start_service(data, schema, **slow) as service:
            await create_project(service, "acme")
            hook = await add_webhook(service, receiver.url(), ["sms.filtered"])
            await append_event(service, "acme", Kind.SMS_FILTERED, FILTERED)
            await receiver.wait_for(1)  # 500: retried in about a second, when stopped
            (pending,) = await deliveries(service, hook)
            await eventually(lambda: pending_once(service, hook), "the failed attempt recorded")
        await write_while_stopped(data, schema, "30039")
        assert len(receiver.requests) == 1
        async with start_service(data, schema, **FAST) as service:
            _, *after = await receiver.wait_for(3)
            listed = await settled(service, hook, 2)
    got = sorted(verified(hook["secret"], seen)["data"]["error_code"] for seen in after)
    assert got == ["30038", "30039"]
    newest, oldest = listed
    assert (oldest["attempts"], newest["attempts"]) == (2, 1)
    assert oldest["id"] == pending["id"]


async def test_the_signing_secret_outlives_a_key_rotation(backend: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with backend_store(backend) as schema, receiving() as receiver:
        async with start_service(data, schema, **FAST, secret_key="old-key") as service:
            await create_project(service, "acme")
            hook = await add_webhook(service, receiver.url(), ["sms.filtered"])
        env = {
            "AGENTID_SECRET_KEY": "new-key",
            "AGENTID_PREVIOUS_SECRET_KEYS": "old-key",
            "AGENTID_DATABASE_URL": PG_URL if schema else None,
            "AGENTID_DATABASE_SCHEMA": schema,
        }
        args = ["secrets", "rotate", "--data-dir", str(data)]
        done = await asyncio.to_thread(CliRunner().invoke, cli, args, env=env)
        assert done.exit_code == 0, done.output
        assert "1 webhook secrets" in done.stdout
        async with start_service(data, schema, **FAST, secret_key="new-key") as service:
            await append_event(service, "acme", Kind.SMS_FILTERED, FILTERED)
            (seen,) = await receiver.wait_for(1)
    assert verified(hook["secret"], seen)["data"]["error_code"] == "30038"
