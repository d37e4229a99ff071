"""Experiment tag values up to 20,000 characters, as MLflow 3.17 allows.

SQLite does not enforce a VARCHAR length, but the declared type is kept equal to the tables'
everywhere (batch mode recreates the table on SQLite).

Revision ID: 0007_experiment_tag_values
Revises: 0006_search_order_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_experiment_tag_values"
down_revision = "0006_search_order_indexes"
branch_labels = None
depends_on = None


def _resize(old: int, new: int) -> None:
    with op.batch_alter_table("experiment_tags") as batch:
        batch.alter_column(
            "value", existing_type=sa.String(old), type_=sa.String(new), existing_nullable=True
        )


def upgrade() -> None:
    _resize(5000, 20000)


def downgrade() -> None:
    _resize(20000, 5000)
