"""Model registry: registered models, their versions, tags and aliases.

Revision ID: 0002_model_registry
Revises: 0002_logged_models
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_model_registry"
# Chained after the logged-models revision (written in parallel) to keep one head.
down_revision = "0002_logged_models"
branch_labels = None
depends_on = None


def _cascade_to(columns: list[str], target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        columns,
        [f"{target}.{c}" for c in columns],
        onupdate="CASCADE",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        _cascade_to(["name"], "registered_models"),
        sa.PrimaryKeyConstraint("name", "key"),
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("alias", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _cascade_to(["name"], "registered_models"),
        sa.PrimaryKeyConstraint("name", "alias"),
    )
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("user_id", sa.String(length=256), nullable=True),
        sa.Column("current_stage", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=True),
        sa.Column("storage_location", sa.String(length=2000), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("run_link", sa.String(length=2000), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_message", sa.String(length=500), nullable=True),
        sa.Column("model_id", sa.String(length=40), nullable=True),
        _cascade_to(["name"], "registered_models"),
        sa.PrimaryKeyConstraint("name", "version"),
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"], unique=False)
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        _cascade_to(["name", "version"], "model_versions"),
        sa.PrimaryKeyConstraint("name", "version", "key"),
    )


def downgrade() -> None:
    op.drop_table("model_version_tags")
    op.drop_index("ix_model_versions_run_id", table_name="model_versions")
    for table in ("model_versions", "registered_model_aliases", "registered_model_tags"):
        op.drop_table(table)
    op.drop_table("registered_models")
