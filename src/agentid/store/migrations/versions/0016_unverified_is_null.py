"""a message without a verdict holds SQL NULL in auth_results, not JSON null

Digesting wrote ``auth_results`` as JSON ``null`` (SQLAlchemy's JSON type stores Python
None that way unless told otherwise), so "no verdict yet" (``auth_results IS NULL``) found
nothing: a verdict lost to a crash or a stop was never checked again. The column now maps
None to SQL NULL; rows written before are made the same.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE messages SET auth_results = NULL WHERE auth_results::text = 'null'")
    else:
        op.execute("UPDATE messages SET auth_results = NULL WHERE auth_results = 'null'")


def downgrade() -> None:
    """Nothing to undo: SQL NULL reads as None either way."""
