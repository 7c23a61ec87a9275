"""messages.digest_owner: which process digests a committed message

Each process of a cluster writes the messages it commits with its node id (store/leader)
and digests only those it owns; a process that is gone leaves its undigested messages to
whichever live process claims them (email/inbound/claims). Messages stored before have no
owner: the first process to look claims them. A partial index over what is left to digest
keeps that look cheap however much mail is stored.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UNDIGESTED = sa.text("status = 'received'")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_owner", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_messages_undigested",
            ["digest_owner"],
            unique=False,
            sqlite_where=UNDIGESTED,
            postgresql_where=UNDIGESTED,
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_undigested")
        batch_op.drop_column("digest_owner")
