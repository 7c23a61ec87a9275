"""events (durable, commit-ordered) and one codes model for every source

- events: one row per event, written with the change it reports; ``seq`` follows commit
  order and is the ``id:`` of server-sent events.
- codes.message_id becomes codes.source_id, beside codes.source_type (email, sms,
  escalation); codes.group_id groups the candidates of one source (consuming one
  consumes the group); codes.authenticated and codes.expires_at may be unknown (NULL).
  Existing codes are email codes, each its own group (a message kept one per kind).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref_id", sa.String(length=26), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_events_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_project_id_seq", "events", ["project_id", "seq"])
    op.create_index(op.f("ix_events_ref_id"), "events", ["ref_id"])
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_codes_message_id"))
        batch_op.alter_column(
            "message_id", new_column_name="source_id", existing_type=sa.String(length=26)
        )
        batch_op.add_column(
            sa.Column("source_type", sa.String(length=16), nullable=False, server_default="email")
        )
        batch_op.add_column(sa.Column("group_id", sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column("authenticated", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    codes = sa.table("codes", sa.column("id", sa.String), sa.column("group_id", sa.String))
    op.get_bind().execute(sa.update(codes).values(group_id=codes.c.id))
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.alter_column("source_type", server_default=None)
        batch_op.alter_column("group_id", existing_type=sa.String(length=26), nullable=False)
        batch_op.create_index(batch_op.f("ix_codes_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_codes_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_codes_group_id"))
        batch_op.drop_index(batch_op.f("ix_codes_source_id"))
        batch_op.drop_column("expires_at")
        batch_op.drop_column("authenticated")
        batch_op.drop_column("group_id")
        batch_op.drop_column("source_type")
        batch_op.alter_column(
            "source_id", new_column_name="message_id", existing_type=sa.String(length=26)
        )
        batch_op.create_index(batch_op.f("ix_codes_message_id"), ["message_id"], unique=False)
    op.drop_index(op.f("ix_events_ref_id"), table_name="events")
    op.drop_index("ix_events_project_id_seq", table_name="events")
    op.drop_table("events")
