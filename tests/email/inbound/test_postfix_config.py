"""``agentid postfix-config`` and deploy/postfix/: what is printed is what is shipped
(and what tests/email/inbound/test_postfix.py runs)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from agentid.cli import app
from agentid.config import Settings
from agentid.email.inbound.postfix import ROLE
from agentid.email.inbound.postfix import Setup
from agentid.email.inbound.postfix import main_cf
from agentid.email.inbound.postfix import map_files
from agentid.email.inbound.postfix import role_sql
from tests.email.inbound.postfix import DEPLOY

BEGIN, END = "# agentid: begin\n", "# agentid: end\n"


def test_the_deployed_main_cf_carries_the_printed_block() -> None:
    text = (DEPLOY / "main.cf").read_text()
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    defaults = Settings()
    setup = Setup(
        lmtp=["inet:127.0.0.1:2424"],
        max_message_bytes=defaults.max_message_bytes,
        max_recipients=defaults.max_recipients,
    )
    assert block == main_cf(setup)


def test_socketmap_setup_printed(tmp_path: Path) -> None:
    env = {"AGENTID_LMTP_PORT": "2424", "AGENTID_SOCKETMAP_PORT": "2426",
           "AGENTID_MAX_MESSAGE_BYTES": "1048576", "AGENTID_DATABASE_URL": None}  # fmt: skip
    result = CliRunner().invoke(app, ["postfix-config", "--lmtp", "inet:10.0.0.5:2424",
                                      "--lmtp", "inet:10.0.0.6:2424"], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "relay_transport = lmtp:[10.0.0.5]:2424, [10.0.0.6]:2424\n" in result.output
    assert "relay_recipient_maps = socketmap:inet:127.0.0.1:2426:recipient\n" in result.output
    assert f"message_size_limit = {1048576 - 64 * 1024}\n" in result.output
    assert "pgsql" not in result.output


def test_pgsql_setup_written(tmp_path: Path) -> None:
    env = {
        "AGENTID_DATABASE_URL": "postgresql://agentid@db.internal:5433/mail",
        "AGENTID_DATABASE_SCHEMA": "prod",
        "AGENTID_LMTP_SOCKET": "/run/agentid/lmtp",
    }
    args = ["postfix-config", "--lookup", "pgsql", "--pgsql-password", "s3cret", "--out"]
    result = CliRunner().invoke(app, [*args, str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    written = {p.name for p in tmp_path.iterdir()}
    assert written == {"main.cf.agentid", "master.cf.agentid", "agentid-domains.cf",
                       "agentid-recipients.cf", "role.sql"}  # fmt: skip
    main = (tmp_path / "main.cf.agentid").read_text()
    assert "relay_recipient_maps = pgsql:/etc/postfix/agentid-recipients.cf" in main
    assert "relay_transport = lmtp:unix:/run/agentid/lmtp\n" in main
    recipients = (tmp_path / "agentid-recipients.cf").read_text()
    assert "hosts = db.internal:5433\ndbname = mail\nuser = agentid_postfix\n" in recipients
    assert 'FROM "prod".postfix_recipients' in recipients and "password = s3cret" in recipients
    assert oct((tmp_path / "agentid-recipients.cf").stat().st_mode & 0o777) == "0o640"
    role = (tmp_path / "role.sql").read_text()
    assert 'GRANT SELECT ON "prod".postfix_domains, "prod".postfix_recipients' in role


def test_pgsql_needs_a_postgresql_store() -> None:
    result = CliRunner().invoke(
        app, ["postfix-config", "--lookup", "pgsql"], env={"AGENTID_DATABASE_URL": None}
    )
    assert result.exit_code != 0
    assert "AGENTID_DATABASE_URL=postgresql" in result.output


def test_the_deployed_pgsql_tables_are_the_printed_ones() -> None:
    setup = Setup(
        lmtp=["inet:127.0.0.1:2424"],
        max_message_bytes=Settings().max_message_bytes,
        max_recipients=100,
        lookup="pgsql",
        pgsql={"hosts": "127.0.0.1:5432", "dbname": "agentid", "user": ROLE,
               "password": "CHANGE-ME", "schema": ""},
    )  # fmt: skip
    for name, text in map_files(setup).items():
        assert (DEPLOY / name).read_text() == text, name
    assert (DEPLOY / "role.sql").read_text() == role_sql("", "CHANGE-ME")
