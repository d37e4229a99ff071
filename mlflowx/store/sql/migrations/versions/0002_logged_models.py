"""Logged models (MLflow 3): logged_models, their tags and params, and run outputs.

Revision ID: 0002_logged_models
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_logged_models"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("artifact_location", sa.String(length=2000), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=32), nullable=False),
        sa.Column("model_type", sa.String(length=500), nullable=True),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("status_message", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"]),
        sa.PrimaryKeyConstraint("model_id"),
    )
    op.create_index(
        "ix_logged_models_experiment_name", "logged_models", ["experiment_id", "name"]
    )
    op.create_index("ix_logged_models_source_run_id", "logged_models", ["source_run_id"])
    for table, value_length in (("logged_model_params", 6000), ("logged_model_tags", 8000)):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(length=40), nullable=False),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.String(length=value_length), nullable=False),
            sa.ForeignKeyConstraint(["model_id"], ["logged_models.model_id"]),
            sa.PrimaryKeyConstraint("model_id", "key"),
        )
    op.create_table(
        "model_outputs",
        sa.Column("run_uuid", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["logged_models.model_id"]),
        sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"]),
        sa.PrimaryKeyConstraint("run_uuid", "model_id"),
    )



def downgrade() -> None:
    for table in ("model_outputs", "logged_model_tags", "logged_model_params"):
        op.drop_table(table)
    op.drop_index("ix_logged_models_source_run_id", table_name="logged_models")
    op.drop_index("ix_logged_models_experiment_name", table_name="logged_models")
    op.drop_table("logged_models")
