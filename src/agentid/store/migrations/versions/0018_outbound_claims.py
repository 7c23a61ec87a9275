"""outbound_recipients.claims: the claim a send's result is written under

``attempts`` counts a round of attempts and a retry of failed recipients sets it back to
0, so it cannot tell an attempt from before the retry from one after it: a result that
came back late (its sender had lost the outbox) could be written over a later attempt's.
``claims`` counts every claim and is never set back; results are fenced by it. Rows
stored before start from their ``attempts``.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claims", sa.Integer(), server_default="0", nullable=False))
    op.execute(sa.text("UPDATE outbound_recipients SET claims = attempts"))


def downgrade() -> None:
    with op.batch_alter_table("outbound_recipients", schema=None) as batch_op:
        batch_op.drop_column("claims")
