"""Each schema change upgrades a store that already holds data, on both backends."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, select, text

from agentid.store.db import MIGRATIONS
from agentid.store.engines import engine_for_url
from agentid.store.tables import Message, MessageRecipient, Project, table_of
from tests.conftest import PG_URL, require_backend


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = engine_for_url(f"sqlite:///{tmp_path / 'm.db'}", None)
        yield made
        made.dispose()
        return
    require_backend("postgresql")
    schema = "m_" + secrets.token_hex(6)
    url = PG_URL.replace("postgresql://", "postgresql+psycopg://")
    admin = engine_for_url(url, None)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    made = engine_for_url(url, schema)
    try:
        yield made
    finally:
        made.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def upgrade(conn: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, revision)


def test_0003_envelope_recipients_and_no_borrowed_verdicts(engine: Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn, "0002")
        now = datetime.now(UTC)
        conn.execute(
            table_of(Project).insert(),
            [{"id": "acme", "domain": "acme.test", "email_active": True, "catch_all": True,
              "retention_days": 30, "created_at": now}],
        )  # fmt: skip
        conn.execute(
            table_of(Message).insert(),
            [
                {
                    "id": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
                    "project_id": "acme",
                    "direction": "inbound",
                    "received_at": now,
                    "mail_from": "s@shop.example",
                    "rcpt_to": ["agent@acme.test"],
                    "size": 10,
                    "status": "parsed",
                    "headers": [["To", "Old <old@acme.test>"], ["Cc", "x@elsewhere.example"]],
                    "auth_results": {"authentication-results": ["mx; spf=pass"]},
                    "has_attachments": False,
                    "unread": True,
                }
            ],
        )
        conn.execute(
            table_of(MessageRecipient).insert(),
            [
                {"message_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "address": a}
                for a in ("agent@acme.test", "old@acme.test", "x@elsewhere.example")
            ],
        )
    with engine.begin() as conn:
        upgrade(conn, "head")
    with engine.connect() as conn:
        header_to, auth = conn.execute(select(Message.header_to, Message.auth_results)).one()
        assert header_to == "old@acme.test\nx@elsewhere.example"
        assert auth is None
        rows = conn.execute(select(MessageRecipient.address)).scalars().all()
        assert rows == ["agent@acme.test"]
