"""Logged models' metrics and runs' model inputs (MLflow 3).

``logged_model_metrics``: ``log_metric(..., model_id=)`` attaches the point to the model too, as
MLflow's table of that name (without its ``dataset_uuid``); a logged model returns them as
``data.metrics``. ``model_inputs``: the logged models a run consumed (``log_inputs(models=)``),
which MLflow keeps in its generic ``inputs`` table; like MLflow, the model is recorded without
being looked up (no foreign key to ``logged_models``).

Revision ID: 0005_model_metrics_inputs
Revises: 0004_auth
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_model_metrics_inputs"
down_revision = "0004_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("metric_name", sa.String(length=500), nullable=False),
        sa.Column("metric_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("metric_step", sa.BigInteger(), nullable=False),
        sa.Column("metric_value", sa.Float(precision=53), nullable=True),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_name", sa.String(length=500), nullable=True),
        sa.Column("dataset_digest", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["logged_models.model_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"]),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_uuid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id"
        ),
    )
    op.create_table(
        "model_inputs",
        sa.Column("run_uuid", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"]),
        sa.PrimaryKeyConstraint("run_uuid", "model_id"),
    )
    op.create_index("ix_model_inputs_model_id", "model_inputs", ["model_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_model_inputs_model_id", table_name="model_inputs")
    op.drop_table("model_inputs")
    op.drop_table("logged_model_metrics")
