"""The store as the issue asks for it: migrations applied on start, SQLite in WAL mode with
synchronous=FULL on every connection (the async one the API uses and the blocking ones
of the spool writer and parse workers)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from agentid.store.db import MIGRATIONS
from agentid.store.db import create_engine
from agentid.store.db import create_sync_engine
from agentid.store.db import migrate
from tests.conftest import Service
from tests.conftest import make_settings

FULL = 2


def head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


async def test_migrations_applied_on_start(service: Service) -> None:
    async with service.running.runtime.engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert version == head()


async def test_sqlite_wal_and_full_sync(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == FULL
    finally:
        await engine.dispose()
    blocking = create_sync_engine(settings)
    try:
        with blocking.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == FULL
    finally:
        blocking.dispose()
