"""domains: what agentid applied to DNS and what verify last saw

- dns_records: each planned record after the last apply (role, record, outcome, the
  provider's id, whether agentid created it): what agentid may change next time.
- dns_checks, dns_checked_at: the last verification, per record, and when it ran.
- dns_applied_at: when the records were last applied.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("domains", sa.Column("dns_records", sa.JSON(), nullable=True))
    op.add_column("domains", sa.Column("dns_checks", sa.JSON(), nullable=True))
    op.add_column("domains", sa.Column("dns_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("domains", sa.Column("dns_applied_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("domains") as batch:
        for column in ("dns_applied_at", "dns_checked_at", "dns_checks", "dns_records"):
            batch.drop_column(column)
