"""Engine, sessions and migrations for both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine

from agentid.config import Settings
from agentid.store.engines import engine_for_url
from agentid.store.engines import sqlite_pragmas

MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine for the configured store; SQLite runs in WAL with synchronous=FULL."""
    url = settings.resolved_database_url()
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Every aiosqlite connection is a thread: keep them rather than churn overflow ones.
        kwargs["pool_size"] = 20
        kwargs["max_overflow"] = 20
    elif url.startswith("postgresql") and settings.database_schema:
        kwargs["connect_args"] = {
            "server_settings": {"search_path": settings.database_schema},
        }
        kwargs["pool_size"] = 10
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    return engine


def create_sync_engine(settings: Settings, *, durable: bool = True) -> Engine:
    """A blocking engine for the spool's writer thread and the parse workers."""
    url = settings.resolved_database_url(sync=True)
    return engine_for_url(url, settings.database_schema, durable=durable)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _upgrade(connection: Connection) -> None:
    from alembic import command  # only where migrations run: Alembic stays out of the server
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every Alembic migration not yet applied, on ``engine``."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def upgrade_url(url: str, schema: str | None) -> None:
    """Apply every migration not yet applied through a blocking engine (a helper process)."""
    engine = engine_for_url(url, schema)
    try:
        with engine.begin() as conn:
            _upgrade(conn)
    finally:
        engine.dispose()


async def migrate_in_process(settings: Settings) -> None:
    """Migrate on start in a short-lived helper process, so the long-lived server never
    loads Alembic (about 10 MB it would keep for its whole life)."""
    from agentid.email.inbound import processes

    process = processes.context().Process(
        target=upgrade_url,
        args=(settings.resolved_database_url(sync=True), settings.database_schema),
        name="agentid-migrate",
    )
    await asyncio.to_thread(process.start)
    await asyncio.to_thread(process.join)
    code = processes.closed(process)  # its descriptors released at once
    if code != 0:
        raise RuntimeError(f"database migration failed (exit code {code})")
