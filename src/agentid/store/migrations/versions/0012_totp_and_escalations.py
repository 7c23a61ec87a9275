"""TOTP authenticators and human escalations

- totp_secrets: a project's authenticator secrets, one per label, the secret sealed with
  the service key; algorithm, digits, period and the issuer and account the URI named.
- escalations: what an agent asked the operator for (kind code, link or other), for which
  service (and that service's registrable domain, ``site``), why, until when; ``status``
  open or answered, the answer and the code it became.
- codes.channel takes 16 characters: an answered escalation's code is of channel
  ``escalation``. Only PostgreSQL is altered (in place, no rewrite): SQLite does not hold
  a VARCHAR to its length, and rebuilding a large codes table would be for nothing.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "codes", "channel", type_=sa.String(length=16), existing_type=sa.String(length=8)
        )
    op.create_table(
        "totp_secrets",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("label", sa.String(length=63), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=True),
        sa.Column("account", sa.String(length=255), nullable=True),
        sa.Column("algorithm", sa.String(length=8), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_totp_secrets_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_secrets")),
        sa.UniqueConstraint("project_id", "label", name=op.f("uq_totp_secrets_project_id")),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("project_id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("service", sa.String(length=253), nullable=True),
        sa.Column("site", sa.String(length=253), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("code_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_escalations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index("ix_escalations_project_id_id", ["project_id", "id"], unique=False)
        batch_op.create_index("ix_escalations_status_id", ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_status_id")
        batch_op.drop_index("ix_escalations_project_id_id")
    op.drop_table("escalations")
    op.drop_table("totp_secrets")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DELETE FROM codes WHERE source_type = 'escalation'")
        op.alter_column(
            "codes", "channel", type_=sa.String(length=8), existing_type=sa.String(length=16)
        )
