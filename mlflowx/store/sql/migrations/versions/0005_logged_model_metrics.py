"""Metrics of logged models: ``log_metric(..., model_id=)`` attaches the point to the model too.

MLflow's ``logged_model_metrics`` (the same columns, without its ``dataset_uuid``); a logged
model returns them as ``data.metrics``.

Revision ID: 0005_logged_model_metrics
Revises: 0004_auth
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_logged_model_metrics"
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


def downgrade() -> None:
    op.drop_table("logged_model_metrics")
