"""Alembic environment for mlflowx's SQL stores; driven by mlflowx.store.sql.schema."""

from __future__ import annotations

from alembic import context

from mlflowx.store.sql.tables import metadata

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
