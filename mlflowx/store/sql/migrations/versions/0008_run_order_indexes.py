"""Indexes for searches ordered by a run's end time, name or status.

A keyset page of a search ordered by ``attributes.end_time`` (``run_name``, ``status``) walks
``runs`` in that order within the experiment and stage, checks the filters per run and stops
after a page, as ``start_time`` does with ``ix_runs_experiment_stage_start``; without an index
every match is read and sorted (0.6-4 s at 100,000 runs). Each index ends with ``start_time``,
the order's first tie-breaker, so runs lacking the value (``end_time IS NULL``) and runs of one
status also come out in ``start_time`` order. PostgreSQL indexes the text columns with
``COLLATE "C"``, the byte order searches sort by (MLflow's, Python's), and ``start_time`` in
the searches' ``DESC NULLS LAST``. PostgreSQL also gets (key, value prefix) indexes of params
and tags, the walk of a search ordered by one (SQLite has whole-value ones, migration 0006).

Revision ID: 0008_run_order_indexes
Revises: 0007_experiment_tag_values
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_run_order_indexes"
down_revision = "0007_experiment_tag_values"
branch_labels = None
depends_on = None

#: index name -> (ordered column, whether it holds text)
INDEXES = {
    "ix_runs_experiment_stage_end": ("end_time", False),
    "ix_runs_experiment_stage_name": ("name", True),
    "ix_runs_experiment_stage_status": ("status", True),
}

#: PostgreSQL: params and tags by the first characters of their value (a B-tree entry must stay
#: under ~2.7 kB; a param holds up to 6,000 characters). Searches ordered by a param or tag sort
#: by (that prefix, the whole value): the same order, walked from this index.
PREFIX = 200
PREFIX_INDEXES = {"ix_params_key_value_prefix": "params", "ix_tags_key_value_prefix": "tags"}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, (column, text) in INDEXES.items():
        if postgresql:
            # Ties come newest first with runs lacking a start last: `start_time DESC NULLS
            # LAST` in the index spares PostgreSQL a sort of each group (SQLite's NULLs are
            # smallest, so its backward walk of an ascending index is already that order).
            ordered = f'{column} COLLATE "C"' if text else column
            columns: list[str | sa.TextClause] = [
                "experiment_id",
                "lifecycle_stage",
                sa.text(ordered),
                sa.text("start_time DESC NULLS LAST"),
            ]
        else:
            columns = ["experiment_id", "lifecycle_stage", column, "start_time"]
        op.create_index(name, "runs", columns)
    if postgresql:
        for name, table in PREFIX_INDEXES.items():
            op.create_index(name, table, ["key", sa.text(f'left(value, {PREFIX}) COLLATE "C"')])


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="runs")
    if op.get_bind().dialect.name == "postgresql":
        for name, table in PREFIX_INDEXES.items():
            op.drop_index(name, table_name=table)
