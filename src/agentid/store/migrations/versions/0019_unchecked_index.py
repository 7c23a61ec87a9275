"""ix_messages_unchecked: digested messages still without a verdict, by owner

A process of a cluster that dies mid-check leaves the messages it digested without a
verdict; one process of the cluster looks for such messages of gone owners every few
seconds (email/inbound/claims), through this partial index of the digested messages
without a verdict (with ``AGENTID_INBOUND_AUTH`` off that is every digested one, and
nothing reads the index).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

UNCHECKED = sa.text("status IN ('parsed', 'parse_error') AND auth_results IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_unchecked",
            ["digest_owner"],
            unique=False,
            sqlite_where=UNCHECKED,
            postgresql_where=UNCHECKED,
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_unchecked")
