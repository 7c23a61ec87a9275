"""relay_deliveries: what an edge MTA (Postfix over LMTP) handed over, by its queue id

- relay_deliveries: one row per (the MTA's host and queue id, envelope recipient) with the
  message it was stored as. A delivery the MTA makes again, because agentid committed it
  but died before replying, finds its row and is acknowledged without a second copy. The
  row goes with its message.

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
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


def downgrade() -> None:
    op.drop_table("relay_deliveries")
