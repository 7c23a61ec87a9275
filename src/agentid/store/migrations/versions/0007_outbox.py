"""sending: the outbox, its recipients, suppressions and send policies; threads

- outbound: one row per message a project sends, with its finished (signed) bytes, so a
  retry sends exactly the same message; (project_id, idempotency_key) is unique.
- outbound_recipients: where each envelope recipient's delivery stands (local or relay,
  attempts, next attempt, the provider's id or the error).
- suppressions: addresses a relay refused for good, per project.
- send_policies: per project, the recipient domains allowed and blocked.
- messages.thread_id and messages.mid_key (and the same on outbound): the conversation a
  message belongs to, found by Message-ID (agentid.email.threads). Messages stored before
  have none until they are answered.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("mail_from", sa.String(length=320), nullable=False),
        sa.Column("to", sa.JSON(), nullable=False),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message_id_header", sa.Text(), nullable=False),
        sa.Column("in_reply_to", sa.String(length=26), nullable=True),
        sa.Column("thread_id", sa.String(length=26), nullable=False),
        sa.Column("mid_key", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_outbound_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound")),
        sa.UniqueConstraint("project_id", "idempotency_key", name=op.f("uq_outbound_project_id")),
    )
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_project_id_id", ["project_id", "id"], unique=False)
        batch_op.create_index(
            "ix_outbound_project_id_mid_key", ["project_id", "mid_key"], unique=False
        )
        batch_op.create_index(
            "ix_outbound_project_id_thread_id", ["project_id", "thread_id"], unique=False
        )

    op.create_table(
        "send_policies",
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("allow", sa.JSON(), nullable=False),
        sa.Column("block", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_send_policies_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_send_policies")),
    )
    op.create_table(
        "suppressions",
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_suppressions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "address", name=op.f("pk_suppressions")),
    )
    op.create_table(
        "outbound_recipients",
        sa.Column("outbound_id", sa.String(length=26), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("route", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbound_id"],
            ["outbound.id"],
            name=op.f("fk_outbound_recipients_outbound_id_outbound"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outbound_id", "address", name=op.f("pk_outbound_recipients")),
    )
    with op.batch_alter_table("outbound_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbound_recipients_due", ["status", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thread_id", sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column("mid_key", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_messages_project_id_mid_key", ["project_id", "mid_key"], unique=False
        )
        batch_op.create_index(
            "ix_messages_project_id_thread_id", ["project_id", "thread_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_project_id_thread_id")
        batch_op.drop_index("ix_messages_project_id_mid_key")
        batch_op.drop_column("mid_key")
        batch_op.drop_column("thread_id")

    with op.batch_alter_table("outbound_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_recipients_due")

    op.drop_table("outbound_recipients")
    op.drop_table("suppressions")
    op.drop_table("send_policies")
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_project_id_thread_id")
        batch_op.drop_index("ix_outbound_project_id_mid_key")
        batch_op.drop_index("ix_outbound_project_id_id")

    op.drop_table("outbound")
