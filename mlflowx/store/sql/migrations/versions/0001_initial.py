"""Initial schema: experiments, runs, params, tags, metrics, latest metrics, datasets, inputs.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('experiments',
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('artifact_location', sa.String(length=2000), nullable=True),
    sa.Column('lifecycle_stage', sa.String(length=32), nullable=False),
    sa.Column('creation_time', sa.BigInteger(), nullable=True),
    sa.Column('last_update_time', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('experiment_id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('datasets',
    sa.Column('dataset_uuid', sa.String(length=36), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('digest', sa.String(length=36), nullable=False),
    sa.Column('dataset_source_type', sa.String(length=36), nullable=False),
    sa.Column('dataset_source', sa.Text(), nullable=False),
    sa.Column('dataset_schema', sa.Text(), nullable=True),
    sa.Column('dataset_profile', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.experiment_id'], ),
    sa.PrimaryKeyConstraint('dataset_uuid'),
    sa.UniqueConstraint('experiment_id', 'name', 'digest', name='uq_datasets_experiment_name_digest')
    )
    op.create_table('experiment_tags',
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.String(length=5000), nullable=True),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.experiment_id'], ),
    sa.PrimaryKeyConstraint('experiment_id', 'key')
    )
    op.create_table('runs',
    sa.Column('run_uuid', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=True),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('start_time', sa.BigInteger(), nullable=True),
    sa.Column('end_time', sa.BigInteger(), nullable=True),
    sa.Column('deleted_time', sa.BigInteger(), nullable=True),
    sa.Column('lifecycle_stage', sa.String(length=20), nullable=False),
    sa.Column('artifact_uri', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.experiment_id'], ),
    sa.PrimaryKeyConstraint('run_uuid')
    )
    op.create_index('ix_runs_experiment_stage_start', 'runs', ['experiment_id', 'lifecycle_stage', 'start_time'], unique=False)
    op.create_table('inputs',
    sa.Column('input_uuid', sa.String(length=36), nullable=False),
    sa.Column('run_uuid', sa.String(length=32), nullable=False),
    sa.Column('dataset_uuid', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['dataset_uuid'], ['datasets.dataset_uuid'], ),
    sa.ForeignKeyConstraint(['run_uuid'], ['runs.run_uuid'], ),
    sa.PrimaryKeyConstraint('input_uuid'),
    sa.UniqueConstraint('run_uuid', 'dataset_uuid', name='uq_inputs_run_dataset')
    )
    op.create_index(op.f('ix_inputs_run_uuid'), 'inputs', ['run_uuid'], unique=False)
    op.create_table('latest_metrics',
    sa.Column('run_uuid', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.Float(precision=53), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('step', sa.BigInteger(), nullable=False),
    sa.Column('is_nan', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['run_uuid'], ['runs.run_uuid'], ),
    sa.PrimaryKeyConstraint('run_uuid', 'key'),
    sqlite_with_rowid=False
    )
    op.create_index('ix_latest_metrics_key_value', 'latest_metrics', ['key', 'value'], unique=False)
    op.create_table('metrics',
    sa.Column('run_uuid', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.Float(precision=53), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('step', sa.BigInteger(), nullable=False),
    sa.Column('is_nan', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['run_uuid'], ['runs.run_uuid'], ),
    sa.PrimaryKeyConstraint('run_uuid', 'key', 'step', 'timestamp', 'value', 'is_nan'),
    sqlite_with_rowid=False
    )
    op.create_table('params',
    sa.Column('run_uuid', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.String(length=6000), nullable=False),
    sa.ForeignKeyConstraint(['run_uuid'], ['runs.run_uuid'], ),
    sa.PrimaryKeyConstraint('run_uuid', 'key'),
    sqlite_with_rowid=False
    )
    op.create_table('tags',
    sa.Column('run_uuid', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.String(length=8000), nullable=True),
    sa.ForeignKeyConstraint(['run_uuid'], ['runs.run_uuid'], ),
    sa.PrimaryKeyConstraint('run_uuid', 'key'),
    sqlite_with_rowid=False
    )
    op.create_table('input_tags',
    sa.Column('input_uuid', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['input_uuid'], ['inputs.input_uuid'], ),
    sa.PrimaryKeyConstraint('input_uuid', 'key')
    )


def downgrade() -> None:
    for table in (
        "input_tags", "tags", "params", "metrics", "latest_metrics", "inputs", "runs",
        "experiment_tags", "datasets", "experiments",
    ):
        op.drop_table(table)
