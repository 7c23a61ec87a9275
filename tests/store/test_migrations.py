"""Each schema change upgrades a store that already holds data, on both backends."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import column
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import table
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from agentid.email.inbound.verdict_records import unchecked
from agentid.store.db import MIGRATIONS
from agentid.store.engines import engine_for_url
from agentid.store.tables import Base
from agentid.store.tables import CodeRow
from agentid.store.tables import Domain
from agentid.store.tables import Escalation
from agentid.store.tables import EventRow
from agentid.store.tables import Message
from agentid.store.tables import MessageRecipient
from agentid.store.tables import OutboundRecipient
from agentid.store.tables import Project
from agentid.store.tables import ProjectProvider
from agentid.store.tables import RelayDelivery
from agentid.store.tables import Token
from agentid.store.tables import TotpSecret
from agentid.store.tables import UiSession
from agentid.store.tables import Webhook
from agentid.store.tables import WebhookCursor
from agentid.store.tables import WebhookDelivery
from agentid.store.tables import table_of
from tests.conftest import PG_URL
from tests.conftest import require_backend


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


def add_outbound(conn: Connection, now: datetime, outbound_id: str, status: str) -> None:
    """Message ``outbound_id`` that project ``acme`` sends, in the columns every revision
    since 0007 has."""
    conn.execute(
        text(
            'INSERT INTO outbound (id, project_id, created_at, status, mail_from, "to", cc,'
            " subject, message_id_header, thread_id, mid_key, size, raw) VALUES (:id, 'acme',"
            " :now, :status, 'a@acme.test', '[]', '[]', 'Hi', '<m@x>', :id, 'k', 2, :raw)"
        ),
        {"id": outbound_id, "now": now, "status": status, "raw": b"hi"},
    )


_PROJECTS_0001 = table(
    "projects", *(column(name) for name in
                  ("id", "domain", "email_active", "catch_all", "retention_days", "created_at"))
)  # fmt: skip


def add_projects(conn: Connection, now: datetime, domains: dict[str, str | None]) -> None:
    """Projects as every revision since 0001 stores them: id -> domain."""
    conn.execute(
        _PROJECTS_0001.insert(),
        [{"id": p, "domain": d, "email_active": d is not None, "catch_all": True,
          "retention_days": 30, "created_at": now} for p, d in domains.items()],
    )  # fmt: skip


def add_message(conn: Connection, now: datetime, status: str) -> None:
    """Message ``01M`` of project ``acme``, in the columns every revision since 0010 has."""
    conn.execute(
        text(
            "INSERT INTO messages (id, project_id, direction, received_at, mail_from, rcpt_to,"
            " size, status, has_attachments, unread) VALUES ('01M', 'acme', 'inbound', :now,"
            " 's@x.example', '[]', 1, :status, false, true)"
        ),
        {"now": now, "status": status},
    )


def test_0003_envelope_recipients_and_no_borrowed_verdicts(engine: Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn, "0002")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": "acme.test"})
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


def test_0004_project_providers_next_to_existing_data(engine: Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn, "0003")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": None, "beta": None})
        conn.execute(
            table_of(Domain).insert(),
            [{"name": "acme.test", "project_id": "acme", "dkim_selector": "agentid",
              "dkim_private_key": b"sealed-key", "dkim_public_key": "MIIB",
              "dns_status": "planned", "created_at": now}],
        )  # fmt: skip
    with engine.begin() as conn:
        upgrade(conn, "head")
    providers = table_of(ProjectProvider)
    row = {"url_sealed": b"sealed-url", "fingerprint": "0123456789ab", "created_at": now,
           "updated_at": now}  # fmt: skip
    with engine.begin() as conn:
        assert conn.execute(select(Domain.name, Domain.dkim_private_key)).all() == [
            ("acme.test", b"sealed-key")
        ]
        conn.execute(
            providers.insert(),
            [
                {"project_id": p, "kind": k, **row}
                for p in ("acme", "beta")
                for k in ("relay", "dns")
            ],
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one account per kind
        conn.execute(providers.insert(), [{"project_id": "acme", "kind": "relay", **row}])
    with pytest.raises(IntegrityError), engine.begin() as conn:  # only for a project
        conn.execute(providers.insert(), [{"project_id": "ghost", "kind": "relay", **row}])
    with engine.begin() as conn:
        conn.execute(delete(table_of(Project)).where(Project.id == "beta"))
        left = conn.execute(select(ProjectProvider.project_id, ProjectProvider.kind)).all()
        assert sorted(left) == [("acme", "dns"), ("acme", "relay")]


def test_0005_codes_keep_their_message_as_source_and_events_start_empty(engine: Engine) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        upgrade(conn, "0004")
        add_projects(conn, now, {"acme": "acme.test"})
        codes = Table("codes", MetaData(), autoload_with=conn)
        conn.execute(
            codes.insert(),
            [
                {"id": f"01J0000000000000000000000{n}", "project_id": "acme",
                 "message_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "channel": "email", "kind": kind,
                 "value": value, "confidence": 0.9, "sender": "s@shop.example",
                 "recipients": ["agent@acme.test"], "received_at": now, "used": n == 1}
                for n, (kind, value) in enumerate([("code", "482913"), ("link", "https://x.example/v")])
            ],
        )  # fmt: skip
    with engine.begin() as conn:
        upgrade(conn, "head")
    with engine.connect() as conn:
        rows = conn.execute(
            select(CodeRow.id, CodeRow.source_type, CodeRow.source_id, CodeRow.group_id,
                   CodeRow.authenticated, CodeRow.expires_at, CodeRow.used).order_by(CodeRow.id)
        ).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [
            ("01J00000000000000000000000", "email", "01HZZZZZZZZZZZZZZZZZZZZZZZ",
             "01J00000000000000000000000", None, None, False),
            ("01J00000000000000000000001", "email", "01HZZZZZZZZZZZZZZZZZZZZZZZ",
             "01J00000000000000000000001", None, None, True),
        ]  # fmt: skip
        assert conn.execute(select(EventRow.seq)).all() == []


def test_migrations_make_exactly_the_tables_the_code_declares(engine: Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn, "head")
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_schemas": False, "compare_type": False}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_0002_attachments_table_next_to_stored_messages(engine: Engine) -> None:
    now = datetime.now(UTC)
    mid = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
    with engine.begin() as conn:
        upgrade(conn, "0001")
        add_projects(conn, now, {"acme": "acme.test"})
        messages = Table("messages", MetaData(), autoload_with=conn)
        conn.execute(
            messages.insert(),
            [{"id": mid, "project_id": "acme", "direction": "inbound", "received_at": now,
              "mail_from": "s@shop.example", "rcpt_to": ["agent@acme.test"], "size": 10,
              "status": "parsed", "has_attachments": True, "unread": True,
              "attachments": [{"filename": "a.pdf", "content_type": "application/pdf"}]}],
        )  # fmt: skip
    with engine.begin() as conn:
        upgrade(conn, "0002")
        attachments = Table("message_attachments", MetaData(), autoload_with=conn)
        conn.execute(
            attachments.insert(),
            [{"message_id": mid, "idx": 0, "filename": "a.pdf", "content_type": "application/pdf",
              "content_id": None, "size": 3, "data": b"%PD"}],
        )  # fmt: skip
        kept = conn.execute(select(messages.c.id, messages.c.attachments)).one()
        assert tuple(kept) == (mid, [{"filename": "a.pdf", "content_type": "application/pdf"}])
    with engine.begin() as conn:  # the attachment goes with its message
        conn.execute(delete(messages).where(messages.c.id == mid))
        assert conn.execute(select(attachments.c.idx)).all() == []


def test_0008_outbound_keeps_its_rows_and_learns_the_relay_choice(engine: Engine) -> None:
    """A message queued before 0008 has no relay choice (it takes the project's current
    relay); its recipients are found by the relay's message id after."""
    with engine.begin() as conn:
        upgrade(conn, "0007")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": "acme.test"})
        add_outbound(conn, now, "01OUT", "sent")
        conn.execute(
            text(
                "INSERT INTO outbound_recipients (outbound_id, address, project_id, route,"
                " status, attempts, provider_message_id, updated_at) VALUES"
                " ('01OUT', 'b@vendor.example', 'acme', 'relay', 'sent', 1, 'ses-1', :now)"
            ),
            {"now": now},
        )
    with engine.begin() as conn:
        upgrade(conn, "head")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT id, relay FROM outbound")).all() == [("01OUT", None)]
        found = conn.execute(
            text("SELECT address FROM outbound_recipients WHERE provider_message_id = 'ses-1'")
        ).all()
        assert found == [("b@vendor.example",)]


def test_0011_projects_default_to_any_code_and_old_mail_is_signed_by_no_one(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        upgrade(conn, "0010")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": "acme.test", "beta": None})
        add_message(conn, now, "parsed")
    with engine.begin() as conn:
        upgrade(conn, "head")
    with engine.connect() as conn:
        found = conn.execute(select(Project.id, Project.authenticated_codes).order_by(Project.id))
        assert found.all() == [("acme", False), ("beta", False)]
        assert conn.execute(select(Message.signed_by, Message.auth_results)).all() == [(None, None)]


def test_0012_totp_and_escalations_beside_existing_codes(engine: Engine) -> None:
    """Codes and events stored before 0012 stay as they were; each project may then keep
    one authenticator per label and escalations, which go with the project."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        upgrade(conn, "0011")
        add_projects(conn, now, {"acme": "acme.test", "beta": None})
        conn.execute(
            text(
                "INSERT INTO codes (id, project_id, source_type, source_id, channel, kind, value,"
                " confidence, sender, recipients, received_at, used, group_id, status) VALUES"
                " ('01C', 'acme', 'sms', '01S', 'sms', 'code', '482913', 0.9, '+15005550006',"
                " '[]', :now, false, '01C', 'found')"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO events (project_id, kind, ref_id, payload, created_at) VALUES"
                " ('acme', 'code.found', '01S', '{}', :now)"
            ),
            {"now": now},
        )
    with engine.begin() as conn:
        upgrade(conn, "head")
    secret = {"algorithm": "SHA1", "digits": 6, "period": 30, "secret_sealed": b"sealed",
              "created_at": now}  # fmt: skip
    asked = {"kind": "code", "reason": "a letter", "status": "open", "created_at": now,
             "expires_at": now}  # fmt: skip
    with engine.begin() as conn:
        assert conn.execute(select(CodeRow.id, CodeRow.source_type, CodeRow.value)).all() == [
            ("01C", "sms", "482913")
        ]
        assert conn.execute(select(EventRow.kind)).scalars().all() == ["code.found"]
        labelled = [{"id": f"01T{p}", "project_id": p, "label": "github"} for p in ("acme", "beta")]
        conn.execute(table_of(TotpSecret).insert(), [{**row, **secret} for row in labelled])
        conn.execute(
            table_of(Escalation).insert(),
            [{"id": f"01E{p}", "project_id": p, **asked} for p in ("acme", "beta")],
        )
        conn.execute(  # the code an answer becomes: channel "escalation" fits now
            text(
                "INSERT INTO codes (id, project_id, source_type, source_id, channel, kind, value,"
                " confidence, recipients, received_at, used, group_id, status) VALUES"
                " ('01D', 'acme', 'escalation', '01Eacme', 'escalation', 'code', '1', 1.0,"
                " '[]', :now, false, '01D', 'found')"
            ),
            {"now": now},
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one secret per label
        conn.execute(
            table_of(TotpSecret).insert(),
            [{"id": "01TX", "project_id": "acme", "label": "github", **secret}],
        )
    with engine.begin() as conn:
        conn.execute(delete(table_of(Project)).where(Project.id == "beta"))
        assert conn.execute(select(TotpSecret.project_id)).scalars().all() == ["acme"]
        assert conn.execute(select(Escalation.id)).scalars().all() == ["01Eacme"]


def test_0013_webhooks_start_after_the_events_already_stored(engine: Engine) -> None:
    """The cursor starts at the newest event: no webhook is ever sent the past. Webhooks
    and their deliveries go with their project."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        upgrade(conn, "0012")
        add_projects(conn, now, {"acme": "acme.test", "beta": None})
        conn.execute(
            text(
                "INSERT INTO events (project_id, kind, ref_id, payload, created_at) VALUES"
                " ('acme', 'message.received', '01M', '{}', :now),"
                " ('beta', 'sms.received', '01S', '{}', :now)"
            ),
            {"now": now},
        )
    with engine.begin() as conn:
        upgrade(conn, "head")
    with engine.begin() as conn:
        newest = conn.execute(select(func.max(EventRow.seq))).scalar_one()
        cursor = conn.execute(select(WebhookCursor.name, WebhookCursor.seq)).all()
        assert cursor == [("events", newest)] and newest >= 2
        conn.execute(
            table_of(Webhook).insert(),
            [{"id": wid, "project_id": project, "url": "https://hooks.example/", "events":
              ["message.received"], "secret_sealed": b"sealed", "enabled": True,
              "after_seq": newest, "created_at": now}
             for wid, project in (("01W", "acme"), ("01X", "beta"), ("operator", None))],
        )  # fmt: skip
        conn.execute(table_of(WebhookDelivery).insert(), [delivery("01D", "01W", now)])
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one per event and replay
        conn.execute(table_of(WebhookDelivery).insert(), [delivery("01E", "01W", now)])
    with engine.begin() as conn:
        conn.execute(delete(table_of(Project)).where(Project.id == "acme"))
        assert conn.execute(select(Webhook.id).order_by(Webhook.id)).scalars().all() == [
            "01X", "operator"
        ]  # fmt: skip
        assert conn.execute(select(WebhookDelivery.id)).all() == []


def delivery(did: str, wid: str, now: datetime) -> dict[str, object]:
    return {"id": did, "webhook_id": wid, "event_seq": 1, "event_type": "message.received",
            "message_id": "msg_" + did, "replay": 0, "body": "{}", "status": "pending",
            "attempts": 0, "next_attempt_at": now, "created_at": now}  # fmt: skip


def test_0014_ui_sessions_go_with_their_token(engine: Engine) -> None:
    """Tokens stored before 0014 stay; a session names a token (and goes when it is
    revoked) or is the operator's (no token)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        upgrade(conn, "0013")
        add_projects(conn, now, {"acme": "acme.test"})
        conn.execute(
            text(
                "INSERT INTO tokens (id, project_id, token_hash, scopes, name, created_at)"
                " VALUES ('01T', 'acme', :hash, '[\"read\"]', NULL, :now)"
            ),
            {"hash": "ab" * 32, "now": now},
        )
    with engine.begin() as conn:
        upgrade(conn, "head")
    seen = {"csrf": "c", "created_at": now, "expires_at": now}
    with engine.begin() as conn:
        assert conn.execute(select(Token.id, Token.scopes)).all() == [("01T", ["read"])]
        conn.execute(
            table_of(UiSession).insert(),
            [{"id_hash": "1" * 64, "token_id": "01T", "admin_hash": None, **seen},
             {"id_hash": "2" * 64, "token_id": None, "admin_hash": "f" * 64, **seen}],
        )  # fmt: skip
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a token that is not there
        conn.execute(
            table_of(UiSession).insert(),
            [{"id_hash": "3" * 64, "token_id": "01X", "admin_hash": None, **seen}],
        )
    with engine.begin() as conn:
        conn.execute(delete(table_of(Token)).where(Token.id == "01T"))
        assert conn.execute(select(UiSession.id_hash)).scalars().all() == ["2" * 64]


def test_0015_relay_deliveries_beside_stored_mail(engine: Engine) -> None:
    """Mail stored before keeps its rows; a delivery row is one per (queue id, recipient)
    and goes with its message."""
    with engine.begin() as conn:
        upgrade(conn, "0014")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": "acme.test"})
        add_message(conn, now, "parsed")
    with engine.begin() as conn:
        upgrade(conn, "head")
        row = {"relay_key": "mx.example/Q1", "address": "a@acme.test", "message_id": "01M"}
        conn.execute(table_of(RelayDelivery).insert(), [row])
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(table_of(RelayDelivery).insert(), [row])
    with engine.begin() as conn:
        assert conn.execute(select(Message.id)).scalars().all() == ["01M"]
        conn.execute(delete(table_of(Message)).where(Message.id == "01M"))
        assert conn.execute(select(RelayDelivery.message_id)).all() == []


def test_0016_messages_without_a_verdict_hold_sql_null(engine: Engine) -> None:
    """Digesting stored JSON ``null`` where no verdict was yet; after 0016 such a message
    is found by ``auth_results IS NULL`` (what the verdict stage checks again), and a
    verdict already stored is kept."""
    insert = (
        "INSERT INTO messages (id, project_id, direction, received_at, mail_from, rcpt_to,"
        " size, status, has_attachments, unread, auth_results) VALUES (:id, 'acme',"
        " 'inbound', :now, 's@x.example', '[]', 1, 'parsed', false, true, {})"
    )
    with engine.begin() as conn:
        upgrade(conn, "0015")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": "acme.test"})
        cast = "CAST(:auth AS json)" if conn.dialect.name == "postgresql" else ":auth"
        for mid, auth in (("01A", "null"), ("01B", '{"spf": "pass"}')):
            conn.execute(text(insert.format(cast)), {"id": mid, "now": now, "auth": auth})
        assert conn.execute(select(Message.id).where(Message.auth_results.is_(None))).all() == []
    with engine.begin() as conn:
        upgrade(conn, "head")
    with engine.connect() as conn:
        unchecked = conn.execute(select(Message.id).where(Message.auth_results.is_(None)))
        assert unchecked.scalars().all() == ["01A"]
        kept = conn.execute(select(Message.auth_results).where(Message.id == "01B")).scalar()
        assert kept == {"spf": "pass"}


def test_0017_mail_stored_before_has_no_digest_owner(engine: Engine) -> None:
    """Undigested mail stored before 0017 has no owner: the first process to look claims
    it (``email/inbound/claims``)."""
    with engine.begin() as conn:
        upgrade(conn, "0016")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": "acme.test"})
        add_message(conn, now, "received")
    with engine.begin() as conn:
        upgrade(conn, "head")
        found = conn.execute(select(Message.id, Message.digest_owner)).all()
        assert found == [("01M", None)]


def test_0018_recipients_stored_before_are_fenced_from_their_attempts(engine: Engine) -> None:
    """A recipient stored before 0018 starts its ``claims`` from its ``attempts``, so the
    answer of a claim made before the upgrade is still written; a row added after starts
    at 0."""
    with engine.begin() as conn:
        upgrade(conn, "0017")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": "acme.test"})
        add_outbound(conn, now, "01O", "sending")
        for address, attempts in (("a@x.example", 3), ("b@x.example", 0)):
            conn.execute(
                text(
                    "INSERT INTO outbound_recipients (outbound_id, address, project_id, route,"
                    " status, attempts, updated_at) VALUES ('01O', :address, 'acme', 'relay',"
                    " 'sending', :attempts, :now)"
                ),
                {"address": address, "attempts": attempts, "now": now},
            )
    with engine.begin() as conn:
        upgrade(conn, "head")
        found = conn.execute(
            select(OutboundRecipient.address, OutboundRecipient.claims).order_by(
                OutboundRecipient.address
            )
        ).all()
        assert found == [("a@x.example", 3), ("b@x.example", 0)]
        conn.execute(
            text(
                "INSERT INTO outbound_recipients (outbound_id, address, project_id, route,"
                " status, attempts, updated_at) VALUES ('01O', 'c@x.example', 'acme', 'relay',"
                " 'queued', 0, :now)"
            ),
            {"now": now},
        )
        added = select(OutboundRecipient.claims).where(OutboundRecipient.address == "c@x.example")
        assert conn.execute(added).scalar() == 0


def test_0019_messages_left_without_a_verdict_are_indexed_by_owner(engine: Engine) -> None:
    """A message digested before 0019 and still without a verdict is found by what the
    claims job asks (``unchecked()``), through the new partial index."""
    with engine.begin() as conn:
        upgrade(conn, "0018")
        now = datetime.now(UTC)
        add_projects(conn, now, {"acme": "acme.test"})
        add_message(conn, now, "parsed")
    with engine.begin() as conn:
        upgrade(conn, "head")
        indexes = {i["name"] for i in inspect(conn).get_indexes("messages")}
        assert "ix_messages_unchecked" in indexes
        found = conn.execute(select(Message.id).where(*unchecked())).scalars().all()
        assert found == ["01M"]
