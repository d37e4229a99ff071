"""(key, value) indexes on params and tags, on SQLite: searches ordered by a param or a tag.

A search ordered by ``params.x`` walks this index in order and stops after a page (checking the
filters per run), instead of reading and sorting every match: at 100,000 runs, 4 s without it
for a scan of ``params``, ~80 ms with it (EXPLAIN: ``SEARCH o USING COVERING INDEX
ix_params_key_value (key=?)``). SQLite only: a PostgreSQL B-tree entry must stay under ~2.7 kB,
and a param may hold 6,000 characters (a tag 8,000), so the index would refuse long values;
PostgreSQL sorts the filter's matches instead.

Revision ID: 0006_search_order_indexes
Revises: 0005_model_metrics_inputs
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0006_search_order_indexes"
down_revision = "0005_model_metrics_inputs"
branch_labels = None
depends_on = None

INDEXES = {"ix_params_key_value": "params", "ix_tags_key_value": "tags"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table in INDEXES.items():
        op.create_index(name, table, ["key", "value"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table in INDEXES.items():
        op.drop_index(name, table_name=table)
