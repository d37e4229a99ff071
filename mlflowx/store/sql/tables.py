"""The relational schema, declared once with SQLModel.

These classes are the source of truth for the Alembic migrations (a test checks that a migrated
database matches them exactly). The runtime store does not import them: its statements are plain
SQL so that the embedded SQLite path needs neither SQLAlchemy nor SQLModel at import time.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata


class ExperimentRow(SQLModel, table=True):
    __tablename__ = "experiments"
    experiment_id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=500, unique=True)
    artifact_location: str | None = Field(default=None, max_length=2000)
    lifecycle_stage: str = Field(max_length=32)
    creation_time: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_update_time: int | None = Field(default=None, sa_column=Column(BigInteger))


class ExperimentTagRow(SQLModel, table=True):
    __tablename__ = "experiment_tags"
    experiment_id: int = Field(foreign_key="experiments.experiment_id", primary_key=True)
    key: str = Field(max_length=250, primary_key=True)
    value: str | None = Field(default=None, max_length=20000)


#: The PostgreSQL columns of the run order indexes (migration 0008): text by byte order
#: (``COLLATE "C"``), ties by ``start_time DESC NULLS LAST`` as searches sort. Alembic reflects
#: such expressions without collation and direction, so a test reads ``pg_indexes`` instead.
POSTGRESQL_RUN_ORDER_INDEXES = {
    "ix_runs_experiment_stage_end": "end_time, start_time DESC NULLS LAST",
    "ix_runs_experiment_stage_name": 'name COLLATE "C", start_time DESC NULLS LAST',
    "ix_runs_experiment_stage_status": 'status COLLATE "C", start_time DESC NULLS LAST',
}


def _run_order_indexes() -> list[Index]:
    """Searches ordered by end time, name or status (migration 0008)."""
    indexes = []
    for name, postgresql in POSTGRESQL_RUN_ORDER_INDEXES.items():
        column = postgresql.split(",")[0].split(" ")[0]
        indexes += [
            Index(name, "experiment_id", "lifecycle_stage", column, "start_time").ddl_if(
                dialect="sqlite"
            ),
            Index(
                name,
                "experiment_id",
                "lifecycle_stage",
                *(text(part.strip()) for part in postgresql.split(",")),
            ).ddl_if(dialect="postgresql"),
        ]
    return indexes


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
        *_run_order_indexes(),
    )
    run_uuid: str = Field(max_length=32, primary_key=True)
    name: str | None = Field(default=None, max_length=250)
    experiment_id: int = Field(foreign_key="experiments.experiment_id")
    user_id: str | None = Field(default=None, max_length=256)
    status: str = Field(max_length=20)
    start_time: int | None = Field(default=None, sa_column=Column(BigInteger))
    end_time: int | None = Field(default=None, sa_column=Column(BigInteger))
    deleted_time: int | None = Field(default=None, sa_column=Column(BigInteger))
    lifecycle_stage: str = Field(max_length=20)
    artifact_uri: str | None = Field(default=None, max_length=2000)


#: Indexes only SQLite has (migration 0006): PostgreSQL B-tree entries cannot hold long values.
SQLITE_ONLY_INDEXES = frozenset({"ix_params_key_value", "ix_tags_key_value"})
#: ... and their PostgreSQL counterparts (migration 0008): by a value prefix, byte order.
POSTGRESQL_PREFIX_INDEXES = {
    "ix_params_key_value_prefix": "params",
    "ix_tags_key_value_prefix": "tags",
}
VALUE_PREFIX = 200
_VALUE_PREFIX = text(f'left(value, {VALUE_PREFIX}) COLLATE "C"')


class ParamRow(SQLModel, table=True):
    __tablename__ = "params"
    __table_args__ = (
        Index("ix_params_key_value", "key", "value").ddl_if(dialect="sqlite"),
        Index("ix_params_key_value_prefix", "key", _VALUE_PREFIX).ddl_if(dialect="postgresql"),
        {"sqlite_with_rowid": False},
    )
    run_uuid: str = Field(foreign_key="runs.run_uuid", primary_key=True, max_length=32)
    key: str = Field(max_length=250, primary_key=True)
    value: str = Field(max_length=6000)


#: Nested runs by parent (migration 0003): partial, and a hash index on PostgreSQL.
_PARENT_TAG = text("key = 'mlflow.parentRunId'")


class TagRow(SQLModel, table=True):
    __tablename__ = "tags"
    __table_args__ = (
        Index(
            "ix_tags_parent_run_id",
            "value",
            sqlite_where=_PARENT_TAG,
            postgresql_where=_PARENT_TAG,
            postgresql_using="hash",
        ),
        Index("ix_tags_key_value", "key", "value").ddl_if(dialect="sqlite"),
        Index("ix_tags_key_value_prefix", "key", _VALUE_PREFIX).ddl_if(dialect="postgresql"),
        {"sqlite_with_rowid": False},
    )
    run_uuid: str = Field(foreign_key="runs.run_uuid", primary_key=True, max_length=32)
    key: str = Field(max_length=250, primary_key=True)
    value: str | None = Field(default=None, max_length=8000)


class MetricRow(SQLModel, table=True):
    """Every logged point. NaN is stored as value 0 with ``is_nan`` set (portable across SQL)."""

    __tablename__ = "metrics"
    __table_args__ = (
        PrimaryKeyConstraint("run_uuid", "key", "step", "timestamp", "value", "is_nan"),
        # On SQLite the primary key is the table (one b-tree instead of two): half the write cost.
        {"sqlite_with_rowid": False},
    )
    run_uuid: str = Field(foreign_key="runs.run_uuid", max_length=32)
    key: str = Field(max_length=250)
    value: float = Field(sa_column=Column(Float(precision=53), nullable=False))
    timestamp: int = Field(sa_column=Column(BigInteger, nullable=False))
    step: int = Field(sa_column=Column(BigInteger, nullable=False))
    is_nan: bool = Field(default=False)


class MetricStepBlockRow(SQLModel, table=True):
    """How many points of each (run, key) have their step in each block of ``2**shift`` steps
    (``step_block = step >> shift``; the shift is ``STEP_BLOCK_SHIFT`` in
    ``mlflowx.store.tracking.step_blocks``), kept exact by every write of ``metrics``: the
    downsampled history finds its points' positions from these counts, without walking them."""

    __tablename__ = "metric_step_blocks"
    __table_args__ = (
        PrimaryKeyConstraint("run_uuid", "key", "step_block"),
        {"sqlite_with_rowid": False},
    )
    run_uuid: str = Field(foreign_key="runs.run_uuid", max_length=32)
    key: str = Field(max_length=250)
    step_block: int = Field(sa_column=Column(BigInteger, nullable=False))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))


class LatestMetricRow(SQLModel, table=True):
    """The latest point per (run, key): what search filters and sorts on."""

    __tablename__ = "latest_metrics"
    __table_args__ = (
        Index("ix_latest_metrics_key_value", "key", "value"),
        {"sqlite_with_rowid": False},
    )
    run_uuid: str = Field(foreign_key="runs.run_uuid", primary_key=True, max_length=32)
    key: str = Field(max_length=250, primary_key=True)
    value: float = Field(sa_column=Column(Float(precision=53), nullable=False))
    timestamp: int = Field(sa_column=Column(BigInteger, nullable=False))
    step: int = Field(sa_column=Column(BigInteger, nullable=False))
    is_nan: bool = Field(default=False)


class DatasetRow(SQLModel, table=True):
    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint(
            "experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"
        ),
    )
    dataset_uuid: str = Field(max_length=36, primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.experiment_id")
    name: str = Field(max_length=500)
    digest: str = Field(max_length=36)
    dataset_source_type: str = Field(max_length=36)
    dataset_source: str = Field(sa_column=Column(Text, nullable=False))
    dataset_schema: str | None = Field(default=None, sa_column=Column(Text))
    dataset_profile: str | None = Field(default=None, sa_column=Column(Text))


class InputRow(SQLModel, table=True):
    __tablename__ = "inputs"
    __table_args__ = (UniqueConstraint("run_uuid", "dataset_uuid", name="uq_inputs_run_dataset"),)
    input_uuid: str = Field(max_length=36, primary_key=True)
    run_uuid: str = Field(foreign_key="runs.run_uuid", max_length=32, index=True)
    dataset_uuid: str = Field(foreign_key="datasets.dataset_uuid", max_length=36)


class InputTagRow(SQLModel, table=True):
    __tablename__ = "input_tags"
    input_uuid: str = Field(foreign_key="inputs.input_uuid", primary_key=True, max_length=36)
    key: str = Field(max_length=255, primary_key=True)
    value: str = Field(max_length=500)


class LoggedModelRow(SQLModel, table=True):
    """A logged model (MLflow 3): ``models:/m-<id>``, stored under its experiment."""

    __tablename__ = "logged_models"
    __table_args__ = (Index("ix_logged_models_experiment_name", "experiment_id", "name"),)
    model_id: str = Field(max_length=40, primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.experiment_id")
    name: str = Field(max_length=500)
    artifact_location: str = Field(max_length=2000)
    creation_timestamp_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_updated_timestamp_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(max_length=40)
    lifecycle_stage: str = Field(max_length=32)
    model_type: str | None = Field(default=None, max_length=500)
    source_run_id: str | None = Field(default=None, max_length=32, index=True)
    status_message: str | None = Field(default=None, max_length=1000)


class LoggedModelTagRow(SQLModel, table=True):
    __tablename__ = "logged_model_tags"
    model_id: str = Field(foreign_key="logged_models.model_id", primary_key=True, max_length=40)
    key: str = Field(max_length=250, primary_key=True)
    value: str = Field(max_length=8000)


class LoggedModelParamRow(SQLModel, table=True):
    __tablename__ = "logged_model_params"
    model_id: str = Field(foreign_key="logged_models.model_id", primary_key=True, max_length=40)
    key: str = Field(max_length=250, primary_key=True)
    value: str = Field(max_length=6000)


class LoggedModelMetricRow(SQLModel, table=True):
    """A metric point logged against a logged model (``log_metric(..., model_id=)``), as
    MLflow's ``logged_model_metrics``: the run that logged it and, optionally, the dataset it was
    computed on. ``metric_value`` is NULL for NaN."""

    __tablename__ = "logged_model_metrics"
    __table_args__ = (
        PrimaryKeyConstraint(
            "model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id"
        ),
        ForeignKeyConstraint(["model_id"], ["logged_models.model_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"]),
        ForeignKeyConstraint(["run_id"], ["runs.run_uuid"], ondelete="CASCADE"),
    )
    model_id: str = Field(max_length=40)
    metric_name: str = Field(max_length=500)
    metric_timestamp_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    metric_step: int = Field(sa_column=Column(BigInteger, nullable=False))
    metric_value: float | None = Field(default=None, sa_column=Column(Float(precision=53)))
    experiment_id: int
    run_id: str = Field(max_length=32)
    dataset_name: str | None = Field(default=None, max_length=500)
    dataset_digest: str | None = Field(default=None, max_length=36)


class ModelInputRow(SQLModel, table=True):
    """A run's model inputs: the logged models it consumed. The model is not looked up (as in
    MLflow), so there is no foreign key to ``logged_models``."""

    __tablename__ = "model_inputs"
    run_uuid: str = Field(foreign_key="runs.run_uuid", primary_key=True, max_length=32)
    model_id: str = Field(primary_key=True, max_length=40, index=True)


class ModelOutputRow(SQLModel, table=True):
    """A run's outputs: the logged models it produced, at a step."""

    __tablename__ = "model_outputs"
    run_uuid: str = Field(foreign_key="runs.run_uuid", primary_key=True, max_length=32)
    model_id: str = Field(foreign_key="logged_models.model_id", primary_key=True, max_length=40)
    step: int = Field(sa_column=Column(BigInteger, nullable=False))


# ---------------------------------------------------------------------------- model registry
# MLflow's registry tables (without its ``workspace`` column). Children follow a rename of their
# model through ON UPDATE CASCADE; version numbers are never reused because deleted versions stay
# as redacted rows (stage ``Deleted_Internal``), as in MLflow.
class RegisteredModelRow(SQLModel, table=True):
    __tablename__ = "registered_models"
    name: str = Field(max_length=256, primary_key=True)
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_updated_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))


class RegisteredModelTagRow(SQLModel, table=True):
    __tablename__ = "registered_model_tags"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name"], ["registered_models.name"], onupdate="CASCADE", ondelete="CASCADE"
        ),
    )
    name: str = Field(max_length=256, primary_key=True)
    key: str = Field(max_length=250, primary_key=True)
    value: str | None = Field(default=None, sa_column=Column(Text))


class ModelVersionRow(SQLModel, table=True):
    __tablename__ = "model_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name"], ["registered_models.name"], onupdate="CASCADE", ondelete="CASCADE"
        ),
        Index("ix_model_versions_run_id", "run_id"),
    )
    name: str = Field(max_length=256, primary_key=True)
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_updated_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    user_id: str | None = Field(default=None, max_length=256)
    current_stage: str = Field(max_length=20)
    source: str | None = Field(default=None, max_length=2000)
    storage_location: str | None = Field(default=None, max_length=2000)
    run_id: str | None = Field(default=None, max_length=32)
    run_link: str | None = Field(default=None, max_length=2000)
    status: str = Field(max_length=20)
    status_message: str | None = Field(default=None, max_length=500)
    model_id: str | None = Field(default=None, max_length=40)


class ModelVersionTagRow(SQLModel, table=True):
    __tablename__ = "model_version_tags"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
    )
    name: str = Field(max_length=256, primary_key=True)
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    key: str = Field(max_length=250, primary_key=True)
    value: str | None = Field(default=None, sa_column=Column(Text))


class RegisteredModelAliasRow(SQLModel, table=True):
    __tablename__ = "registered_model_aliases"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name"], ["registered_models.name"], onupdate="CASCADE", ondelete="CASCADE"
        ),
    )
    name: str = Field(max_length=256, primary_key=True)
    alias: str = Field(max_length=256, primary_key=True)
    version: int = Field(sa_column=Column(Integer, nullable=False))


# ------------------------------------------------------------------------------ authentication
# Users, API tokens and per-resource permissions for ``mlflowx server --auth`` (MLflow's
# basic-auth levels). Permissions go with their resource: deleted with it, and a registered
# model's follow its renames.
class AuthUserRow(SQLModel, table=True):
    __tablename__ = "auth_users"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=255, unique=True)
    password_hash: str = Field(max_length=255)
    is_admin: bool = Field(default=False)
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class AuthTokenRow(SQLModel, table=True):
    __tablename__ = "auth_tokens"
    __table_args__ = (
        ForeignKeyConstraint(["user_id"], ["auth_users.id"], ondelete="CASCADE"),
        Index("ix_auth_tokens_user_id", "user_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, nullable=False))
    name: str = Field(max_length=255)
    #: SHA-256 of the token (tokens are 256 random bits: no slow hash is needed).
    token_hash: str = Field(max_length=64, unique=True)
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    expiry_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class AuthExperimentPermissionRow(SQLModel, table=True):
    __tablename__ = "auth_experiment_permissions"
    __table_args__ = (
        ForeignKeyConstraint(["user_id"], ["auth_users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"),
    )
    experiment_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    permission: str = Field(max_length=32)


class AuthRegisteredModelPermissionRow(SQLModel, table=True):
    __tablename__ = "auth_registered_model_permissions"
    __table_args__ = (
        ForeignKeyConstraint(["user_id"], ["auth_users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["name"], ["registered_models.name"], onupdate="CASCADE", ondelete="CASCADE"
        ),
    )
    name: str = Field(max_length=256, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    permission: str = Field(max_length=32)
