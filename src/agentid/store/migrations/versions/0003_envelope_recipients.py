"""to= means the envelope; header_to keeps To/Cc; no borrowed auth verdicts

- messages.header_to: the To/Cc addresses, one per line (the ``header_to=`` filter).
- message_recipients keeps envelope recipients only (rows for header addresses go).
- messages.auth_results is agentid's own verdict or NULL: the copies of incoming
  Authentication-Results headers stored so far are cleared (the headers stay in
  ``headers`` and in the raw message).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from email.utils import getaddresses
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHUNK = 500


def _header_to(headers: Any) -> str | None:
    values = [str(v) for n, v in headers or [] if str(n).lower() in ("to", "cc")]
    found = [a.lower()[:320] for _, a in getaddresses(values) if "@" in a]
    return "\n".join(dict.fromkeys(found)) or None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("header_to", sa.Text(), nullable=True))
    bind = op.get_bind()
    messages = sa.table(
        "messages",
        sa.column("id", sa.String),
        sa.column("rcpt_to", sa.JSON),
        sa.column("headers", sa.JSON),
        sa.column("header_to", sa.Text),
        sa.column("auth_results", sa.JSON),
    )
    recipients = sa.table(
        "message_recipients", sa.column("message_id", sa.String), sa.column("address", sa.String)
    )
    bind.execute(sa.update(messages).values(auth_results=None))
    last = ""
    while True:
        rows = bind.execute(
            sa.select(messages.c.id, messages.c.rcpt_to, messages.c.headers)
            .where(messages.c.id > last)
            .order_by(messages.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        for mid, rcpt_to, headers in rows:
            header_to = _header_to(headers)
            if header_to is not None:
                bind.execute(
                    sa.update(messages).where(messages.c.id == mid).values(header_to=header_to)
                )
            bind.execute(
                sa.delete(recipients).where(
                    recipients.c.message_id == mid,
                    recipients.c.address.not_in([str(a) for a in rcpt_to or []] or [""]),
                )
            )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("header_to")
