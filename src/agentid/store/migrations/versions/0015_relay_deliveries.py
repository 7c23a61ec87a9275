"""relay_deliveries, and the views Postfix's pgsql lookup tables read


- relay_deliveries: one row per (the MTA's host and queue id, envelope recipient) with the
  message it was stored as. A delivery the MTA makes again, because agentid committed it
  but died before replying, finds its row and is acknowledged without a second copy. The
  row goes with its message.
- postfix_domains (domain, catch_all): the domains agentid receives for (PostgreSQL only,
  as every view here). postfix_recipients (address, accepted): every address agentid
  knows, and whether it accepts mail for it now (a live alias of the domain's project, or
  a project's primary address). A role that may read these two views and nothing else
  (``agentid postfix-config --lookup pgsql`` prints how to make it) answers Postfix.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_deliveries",
        sa.Column("relay_key", sa.String(length=160), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_relay_deliveries_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("relay_key", "address", name=op.f("pk_relay_deliveries")),
    )
    with op.batch_alter_table("relay_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relay_deliveries_message_id"), ["message_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        for statement in VIEWS:
            op.execute(statement)


VIEWS = (
    """CREATE VIEW postfix_domains AS
    SELECT lower(domain) AS domain, catch_all FROM projects
    WHERE email_active AND domain IS NOT NULL""",
    """CREATE VIEW postfix_recipients AS
    SELECT lower(a.address) AS address,
           (a.enabled AND (a.expires_at IS NULL OR a.expires_at > now())
            AND p.id IS NOT NULL) AS accepted
    FROM aliases a
    LEFT JOIN projects p ON p.id = a.project_id AND p.email_active
         AND lower(p.domain) = lower(substring(a.address from '@([^@]*)$'))
    UNION ALL
    SELECT lower(p.primary_address), true FROM projects p
    WHERE p.email_active AND p.primary_address IS NOT NULL AND p.domain IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM aliases a WHERE lower(a.address) = lower(p.primary_address))""",
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP VIEW postfix_recipients")
        op.execute("DROP VIEW postfix_domains")
    op.drop_table("relay_deliveries")
