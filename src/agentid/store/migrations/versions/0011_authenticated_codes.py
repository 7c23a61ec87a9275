"""inbound authentication

- projects.authenticated_codes: the project's codes queries default to authenticated=true.
- messages.signed_by: the sites (registrable domains) whose DKIM signature on the message
  agentid verified, one per line between newlines, so a site-bound query narrows in SQL.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "projects",
        sa.Column("authenticated_codes", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("messages", sa.Column("signed_by", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("signed_by")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("authenticated_codes")
