"""phone: numbers bought for projects, and the SMS they receive

- phone_numbers: the project's number (E.164), its provider (the URL scheme) and the
  provider's handle for it, its status (pending, active, released), when it was bought,
  last received an SMS and was released; ``keep`` pins it against the collector; the
  sub-account made for it (a Twilio subaccount) and that account's token, sealed. Partial
  unique indexes: one pending or active number per project, and per E.164 number.
- phone_forwarders: a human's own phone as an SMS source: the hash of its secret URL's
  token, its signing secret sealed with the service key, when it was revoked.
- sms: each inbound SMS once per (provider, provider message id), with every field the
  provider sent, its media URLs and the codes and links found in it.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LIVE = sa.text("status != 'released'")


def upgrade() -> None:
    op.create_table(
        "phone_numbers",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("line_type", sa.String(length=32), nullable=True),
        sa.Column("keep", sa.Boolean(), nullable=False),
        sa.Column("account_sid", sa.String(length=64), nullable=True),
        sa.Column("account_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_phone_numbers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_numbers")),
    )
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_numbers_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            "uq_phone_numbers_live_project",
            ["project_id"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )
        batch_op.create_index(
            "uq_phone_numbers_live_e164",
            ["e164"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )
    op.create_table(
        "phone_forwarders",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_phone_forwarders_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_forwarders")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_phone_forwarders_token_hash")),
    )
    with op.batch_alter_table("phone_forwarders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_forwarders_project_id"), ["project_id"], unique=False
        )
    op.create_table(
        "sms",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("number_id", sa.String(length=26), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_message_id", sa.String(length=64), nullable=False),
        sa.Column("from_number", sa.String(length=64), nullable=False),
        sa.Column("to_number", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sms_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms")),
        sa.UniqueConstraint("provider", "provider_message_id", name=op.f("uq_sms_provider")),
    )
    with op.batch_alter_table("sms", schema=None) as batch_op:
        batch_op.create_index("ix_sms_project_id_id", ["project_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_project_id_id")
    op.drop_table("sms")
    with op.batch_alter_table("phone_forwarders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_forwarders_project_id"))
    op.drop_table("phone_forwarders")
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.drop_index("uq_phone_numbers_live_e164")
        batch_op.drop_index("uq_phone_numbers_live_project")
        batch_op.drop_index(batch_op.f("ix_phone_numbers_project_id"))
    op.drop_table("phone_numbers")
