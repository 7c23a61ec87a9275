"""Alembic environment: migrations run on a connection handed in by ``agentid.store.db``."""

from __future__ import annotations

from alembic import context

from agentid.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
