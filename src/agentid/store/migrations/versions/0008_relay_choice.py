"""sending: the relay chosen when a message is queued; bounces found by the relay's id

- outbound.relay: whose relay the message was queued for (project, service or none), so
  its delivery and its DKIM decision agree, and a bounce the shared relay reports is filed
  under the project that sent it. Messages stored before have none: they take the
  project's current relay, as before.
- ix_outbound_recipients_provider_message_id: a bounce names the relay's message id.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relay", sa.String(length=8), nullable=True))
    with op.batch_alter_table("outbound_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbound_recipients_provider_message_id", ["provider_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_recipients_provider_message_id")
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.drop_column("relay")
