"""``agentid postfix-config``: the Postfix configuration that puts Postfix in front of
agentid (``email/inbound/postfix.py`` writes it), from this agentid's settings.

Printed: the ``main.cf`` and ``master.cf`` lines, the map files and, with ``--lookup
pgsql``, the SQL that makes the read-only role; with ``--out DIR``, the same as files
(``main.cf.agentid``, ``master.cf.agentid``, the map files, ``role.sql``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from agentid.cli_session import load_settings
from agentid.email.inbound.postfix import ROLE
from agentid.email.inbound.postfix import Setup
from agentid.email.inbound.postfix import main_cf
from agentid.email.inbound.postfix import map_files
from agentid.email.inbound.postfix import master_cf
from agentid.email.inbound.postfix import role_sql
from agentid.errors import BadRequest


def postfix_config(
    lookup: Annotated[
        str, typer.Option("--lookup", help="socketmap (served by agentid) or pgsql (views).")
    ] = "socketmap",
    lmtp: Annotated[
        list[str] | None,
        typer.Option(
            "--lmtp",
            help="LMTP destination, e.g. inet:10.0.0.5:2424 (repeat for several processes;"
            " default: AGENTID_LMTP_SOCKET or AGENTID_HOST:AGENTID_LMTP_PORT).",
        ),
    ] = None,
    socketmap: Annotated[
        str | None,
        typer.Option("--socketmap", help="Where agentid answers lookups (inet:HOST:PORT)."),
    ] = None,
    map_dir: Annotated[str, typer.Option("--map-dir", help="Where the map files go.")] = (
        "/etc/postfix"
    ),
    password: Annotated[
        str, typer.Option("--pgsql-password", help="The read-only role's password.")
    ] = "CHANGE-ME",  # noqa: S107 (a placeholder the operator replaces)
    out: Annotated[Path | None, typer.Option("--out", help="Write files into DIR.")] = None,
) -> None:
    """Print the Postfix configuration for putting Postfix in front of agentid."""
    settings = load_settings()
    if lookup not in ("socketmap", "pgsql"):
        raise BadRequest("--lookup is socketmap or pgsql")
    if not lmtp:
        if settings.lmtp_socket is not None:
            lmtp = [f"unix:{settings.lmtp_socket}"]
        else:
            lmtp = [f"inet:{settings.host}:{settings.lmtp_port or 2424}"]
    pgsql: dict[str, str] = {}
    if lookup == "pgsql":
        url = urlsplit(settings.resolved_database_url())
        if not url.scheme.startswith("postgresql"):
            raise BadRequest("--lookup pgsql needs AGENTID_DATABASE_URL=postgresql://...")
        pgsql = {
            "hosts": f"{url.hostname or '127.0.0.1'}:{url.port or 5432}",
            "dbname": url.path.lstrip("/") or "postgres",
            "user": ROLE,
            "password": password,
            "schema": settings.database_schema or "",
        }
    setup = Setup(
        lmtp=lmtp,
        max_message_bytes=settings.max_message_bytes,
        max_recipients=settings.max_recipients,
        lookup=lookup,
        socketmap=socketmap or f"inet:{settings.host}:{settings.socketmap_port or 2426}",
        map_dir=map_dir,
        pgsql=pgsql,
    )
    files = {"main.cf.agentid": main_cf(setup), "master.cf.agentid": master_cf(setup)}
    files.update(map_files(setup))
    if lookup == "pgsql":
        files["role.sql"] = role_sql(pgsql["schema"], password)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text)
            if name.endswith(".cf") or name == "role.sql":  # they hold the role's password
                (out / name).chmod(0o640)
        typer.echo("\n".join(str(out / name) for name in files))
        return
    for name, text in files.items():
        where = f"{map_dir}/{name}" if name.startswith("agentid-") else name
        typer.echo(f"# ---- {where}\n{text}")
