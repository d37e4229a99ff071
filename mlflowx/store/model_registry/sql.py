"""The SQL registry store: SQLite and PostgreSQL through the same plain statements.

It shares the database (and its schema revision) with the SQL tracking store on the same URI.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from mlflowx.entities import (
    ModelVersion,
    ModelVersionStage,
    PagedList,
    RegisteredModel,
    now_ms,
)
from mlflowx.exceptions import (
    AlreadyExists,
    InvalidParameter,
    InvalidState,
    NotFound,
    SchemaOutOfDate,
)
from mlflowx.store.mlflow_stores import is_mlflow_revision, mlflow_database_refused, safe_uri
from mlflowx.store.model_registry.base import (
    LATEST_ALIAS,
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
    RegistryStore,
    tag_map,
    validate_alias,
    validate_model_name,
    validate_model_version_fields,
    validate_registry_tag,
    validate_version,
)
from mlflowx.store.model_registry.search import (
    compile_model_versions_search,
    compile_registered_models_search,
)
from mlflowx.store.search import decode_page_token, encode_page_token
from mlflowx.store.sql.db import Connection, Database, open_database
from mlflowx.store.sql.schema import HEAD_REVISION, KNOWN_REVISIONS
from mlflowx.utils import validation as v
from mlflowx.utils.uri import parse_model_uri

__all__ = ["STAGE_DELETED_INTERNAL", "SqlRegistryStore"]

#: MLflow's stage for deleted versions: the row stays (redacted) so its number is never reused.
STAGE_DELETED_INTERNAL = "Deleted_Internal"
_CHUNK = 500  # keys per IN (...) / OR list when loading many objects
_ACTIVE_STAGES = (ModelVersionStage.STAGING, ModelVersionStage.PRODUCTION)

_RM_COLUMNS = ("name", "creation_time", "last_updated_time", "description")
_MV_COLUMNS = (
    "name", "version", "creation_time", "last_updated_time", "description", "user_id",
    "current_stage", "source", "run_id", "run_link", "status", "status_message", "model_id",
)  # fmt: skip


def _cols(alias: str, columns: Sequence[str]) -> str:
    return ", ".join(f"{alias}.{c}" for c in columns)


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _model_not_found(name: str) -> NotFound:
    return NotFound(f"Registered Model with name={name} not found")


def _version_not_found(name: str, version: int | str) -> NotFound:
    return NotFound(f"Model Version (name={name}, version={version}) not found")


class SqlRegistryStore(RegistryStore):
    """The model registry in a SQL database.

    Args:
        uri: ``sqlite:///path.db`` or a SQLAlchemy URL such as ``postgresql://user@host/db``.
        db: an open database to share (e.g. the tracking store's); the store does not close it.
    """

    def __init__(self, uri: str, db: Database | None = None) -> None:
        self.uri = uri
        self._owns_db = db is None
        self.db: Database = db if db is not None else open_database(uri)
        self._ensure_schema()

    def close(self) -> None:
        if self._owns_db:
            self.db.close()

    # ------------------------------------------------------------------ schema
    def _revision(self) -> str | None:
        with self.db.read() as conn:
            if self.db.dialect == "sqlite":
                rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            else:
                rows = conn.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            tables = {str(r[0]) for r in rows}
            if "alembic_version" not in tables:
                if tables & {"experiments", "registered_models"}:
                    raise InvalidState(
                        "The database has tables but no schema version; it was not created by "
                        "mlflowx"
                    )
                return None
            found = conn.execute("SELECT version_num FROM alembic_version")
        return str(found[0][0]) if found else None

    def _ensure_schema(self) -> None:
        revision = self._revision()
        if revision is None:
            # An empty database: the tracking store creates the schema both stores share (and
            # the default experiment), by whichever means is fastest for the backend.
            from mlflowx.store.tracking.sql import SqlTrackingStore

            SqlTrackingStore(self.uri).close()
        elif revision != HEAD_REVISION:
            if is_mlflow_revision(revision):
                raise mlflow_database_refused(safe_uri(self.uri), revision)
            if revision in KNOWN_REVISIONS:
                raise SchemaOutOfDate(
                    f"The database is at schema revision {revision!r}; this mlflowx needs "
                    f"{HEAD_REVISION!r}. Back it up, then run: mlflowx db upgrade <uri>"
                )
            raise InvalidState(
                f"The database is at schema revision {revision!r}, which this mlflowx does not "
                "know (a newer mlflowx, or an MLflow database?)"
            )

    # ------------------------------------------------------------------ loading
    def _versions_from_rows(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]]
    ) -> list[ModelVersion]:
        if not rows:
            return []
        keys = [(r[0], int(r[1])) for r in rows]
        tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        for chunk in _chunks(keys):
            where = " OR ".join(f"(name = :n{i} AND version = :v{i})" for i in range(len(chunk)))
            params: dict[str, Any] = {}
            for i, (name, version) in enumerate(chunk):
                params[f"n{i}"], params[f"v{i}"] = name, version
            for name, version, key, value in conn.execute(
                f"SELECT name, version, key, value FROM model_version_tags WHERE {where} "
                "ORDER BY key",
                params,
            ):
                tags[(name, int(version))][key] = value or ""
        aliases = self._aliases(conn, sorted({k[0] for k in keys}))
        by_version: dict[tuple[str, int], list[str]] = defaultdict(list)
        for name, model_aliases in aliases.items():
            for alias, version in model_aliases.items():
                by_version[(name, int(version))].append(alias)
        return [
            ModelVersion(
                name=r[0],
                version=str(r[1]),
                creation_timestamp=r[2],
                last_updated_timestamp=r[3],
                description=r[4],
                user_id=r[5],
                current_stage=r[6],
                source=r[7],
                run_id=r[8],
                run_link=r[9],
                status=r[10],
                status_message=r[11],
                model_id=r[12],
                tags=tags.get(key, {}),
                aliases=by_version.get(key, []),
            )
            for r, key in zip(rows, keys, strict=True)
        ]

    def _aliases(self, conn: Connection, names: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for chunk in _chunks(names):
            marks = ", ".join(f":n{i}" for i in range(len(chunk)))
            for name, alias, version in conn.execute(
                "SELECT name, alias, version FROM registered_model_aliases "
                f"WHERE name IN ({marks}) ORDER BY alias",
                {f"n{i}": n for i, n in enumerate(chunk)},
            ):
                found[name][alias] = str(version)
        return found

    def _models_from_rows(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]]
    ) -> list[RegisteredModel]:
        if not rows:
            return []
        names = [r[0] for r in rows]
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        latest: dict[str, list[ModelVersion]] = defaultdict(list)
        for chunk in _chunks(names):
            marks = ", ".join(f":n{i}" for i in range(len(chunk)))
            params: dict[str, Any] = {f"n{i}": n for i, n in enumerate(chunk)}
            for name, key, value in conn.execute(
                "SELECT name, key, value FROM registered_model_tags "
                f"WHERE name IN ({marks}) ORDER BY key",
                params,
            ):
                tags[name][key] = value or ""
            # The newest version in each stage, as MLflow's ``latest_versions``.
            version_rows = conn.execute(
                f"SELECT {_cols('mv', _MV_COLUMNS)} FROM model_versions mv JOIN ("
                "SELECT name AS n, MAX(version) AS v FROM model_versions "
                f"WHERE name IN ({marks}) AND current_stage <> :deleted "
                "GROUP BY name, current_stage) l ON mv.name = l.n AND mv.version = l.v "
                "ORDER BY mv.name, mv.version",
                {**params, "deleted": STAGE_DELETED_INTERNAL},
            )
            for mv in self._versions_from_rows(conn, version_rows):
                latest[mv.name].append(mv)
        aliases = self._aliases(conn, names)
        return [
            RegisteredModel(
                name=r[0],
                creation_timestamp=r[1],
                last_updated_timestamp=r[2],
                description=r[3],
                latest_versions=latest.get(r[0], []),
                tags=tags.get(r[0], {}),
                aliases=aliases.get(r[0], {}),
            )
            for r in rows
        ]

    def _load_model(self, conn: Connection, name: str) -> RegisteredModel:
        rows = conn.execute(
            f"SELECT {', '.join(_RM_COLUMNS)} FROM registered_models WHERE name = :n", {"n": name}
        )
        if not rows:
            raise _model_not_found(name)
        return self._models_from_rows(conn, rows)[0]

    def _load_version(self, conn: Connection, name: str, version: int) -> ModelVersion:
        rows = conn.execute(
            f"SELECT {', '.join(_MV_COLUMNS)} FROM model_versions "
            "WHERE name = :n AND version = :v AND current_stage <> :deleted",
            {"n": name, "v": version, "deleted": STAGE_DELETED_INTERNAL},
        )
        if not rows:
            raise _version_not_found(name, version)
        return self._versions_from_rows(conn, rows)[0]

    def _require_model(self, conn: Connection, name: str) -> None:
        if not conn.execute("SELECT 1 FROM registered_models WHERE name = :n", {"n": name}):
            raise _model_not_found(name)

    def _require_version(self, conn: Connection, name: str, version: int) -> None:
        if not conn.execute(
            "SELECT 1 FROM model_versions WHERE name = :n AND version = :v "
            "AND current_stage <> :deleted",
            {"n": name, "v": version, "deleted": STAGE_DELETED_INTERNAL},
        ):
            raise _version_not_found(name, version)

    # ------------------------------------------------------------------ registered models
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        name = validate_model_name(name)
        checked = tag_map(tags)
        t = now_ms()
        exists = AlreadyExists(f"Registered Model (name={name}) already exists.")
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM registered_models WHERE name = :n", {"n": name}):
                raise exists
            try:
                conn.execute(
                    "INSERT INTO registered_models (name, creation_time, last_updated_time, "
                    "description) VALUES (:n, :t, :t, :d)",
                    {"n": name, "t": t, "d": description},
                )
            except self.db.integrity_errors:
                raise exists from None
            if checked:
                conn.executemany(
                    "INSERT INTO registered_model_tags (name, key, value) VALUES (:n, :k, :v)",
                    [{"n": name, "k": k, "v": val} for k, val in checked.items()],
                )
            return self._load_model(conn, name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        name = validate_model_name(name)
        with self.db.read() as conn:
            return self._load_model(conn, name)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        name = validate_model_name(name)
        with self.db.write() as conn:
            n = conn.execute_rowcount(
                "UPDATE registered_models SET description = :d, last_updated_time = :t "
                "WHERE name = :n",
                {"d": description, "t": now_ms(), "n": name},
            )
            if n == 0:
                raise _model_not_found(name)
            return self._load_model(conn, name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        name = validate_model_name(name)
        new_name = validate_model_name(new_name, "new_name")
        t = now_ms()
        exists = AlreadyExists(f"Registered Model (name={new_name}) already exists.")
        with self.db.write() as conn:
            self._require_model(conn, name)
            if new_name != name and conn.execute(
                "SELECT 1 FROM registered_models WHERE name = :n", {"n": new_name}
            ):
                raise exists
            try:
                # Versions, tags and aliases follow through ON UPDATE CASCADE.
                conn.execute(
                    "UPDATE registered_models SET name = :new, last_updated_time = :t "
                    "WHERE name = :old",
                    {"new": new_name, "old": name, "t": t},
                )
            except self.db.integrity_errors:
                raise exists from None
            conn.execute(
                "UPDATE model_versions SET last_updated_time = :t WHERE name = :n",
                {"t": t, "n": new_name},
            )
            return self._load_model(conn, new_name)

    def delete_registered_model(self, name: str) -> None:
        name = validate_model_name(name)
        with self.db.write() as conn:
            self._require_model(conn, name)
            for table in (
                "model_version_tags",
                "registered_model_aliases",
                "registered_model_tags",
                "model_versions",
                "registered_models",
            ):
                conn.execute(f"DELETE FROM {table} WHERE name = :n", {"n": name})

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        max_results = v.validate_max_results(
            max_results, SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD
        )
        offset = decode_page_token(page_token)
        search = compile_registered_models_search(filter_string, order_by, self.db.dialect)
        sql = (
            f"SELECT {_cols('rm', _RM_COLUMNS)} FROM registered_models rm WHERE {search.where} "
            f"ORDER BY {search.order_by} LIMIT :limit OFFSET :offset"
        )
        params = {**search.params, "limit": max_results + 1, "offset": offset}
        with self.db.read() as conn:
            rows = conn.execute(sql, params)
            models = self._models_from_rows(conn, rows[:max_results])
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(models, token)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        name = validate_model_name(name)
        if isinstance(stages, str):
            stages = [stages]
        wanted = sorted({ModelVersionStage.parse(s).value for s in stages or ModelVersionStage})
        marks = ", ".join(f":s{i}" for i in range(len(wanted)))
        with self.db.read() as conn:
            self._require_model(conn, name)
            rows = conn.execute(
                f"SELECT {', '.join(_MV_COLUMNS)} FROM model_versions WHERE name = :n AND "
                "version IN (SELECT MAX(version) FROM model_versions "
                f"WHERE name = :n AND current_stage IN ({marks}) GROUP BY current_stage) "
                "ORDER BY version",
                {"n": name, **{f"s{i}": s for i, s in enumerate(wanted)}},
            )
            return self._versions_from_rows(conn, rows)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        name = validate_model_name(name)
        key, value = validate_registry_tag(key, value)
        with self.db.write() as conn:
            self._require_model(conn, name)
            conn.execute(
                "INSERT INTO registered_model_tags (name, key, value) VALUES (:n, :k, :v) "
                "ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
                {"n": name, "k": key, "v": value},
            )

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        name = validate_model_name(name)
        key = v.validate_key("Tag", key)
        with self.db.write() as conn:
            self._require_model(conn, name)
            conn.execute(
                "DELETE FROM registered_model_tags WHERE name = :n AND key = :k",
                {"n": name, "k": key},
            )

    # ------------------------------------------------------------------ versions
    def _download_uri(self, conn: Connection, name: str, version: int) -> str:
        rows = conn.execute(
            "SELECT storage_location, source FROM model_versions "
            "WHERE name = :n AND version = :v AND current_stage <> :deleted",
            {"n": name, "v": version, "deleted": STAGE_DELETED_INTERNAL},
        )
        if not rows:
            raise _version_not_found(name, version)
        return str(rows[0][0] or rows[0][1] or "")

    def _logged_model(self, conn: Connection, model_id: str) -> tuple[str, str | None]:
        """(artifact location, source run) of a logged model, from the tracking tables."""
        rows = conn.execute(
            "SELECT artifact_location, source_run_id FROM logged_models WHERE model_id = :m",
            {"m": model_id},
        )
        if not rows:
            raise NotFound(f"Logged model with ID '{model_id}' not found")
        return str(rows[0][0]), rows[0][1]

    def _resolve_version(self, conn: Connection, uri: str) -> tuple[str, int] | None:
        """(name, version) that a registry ``models:/`` URI names; ``None`` for a logged model."""
        parsed = parse_model_uri(uri)
        if parsed.name is None:
            return None
        name = parsed.name
        if parsed.version is not None:
            return name, int(parsed.version)
        if parsed.alias is not None and parsed.alias.lower() != LATEST_ALIAS:
            rows = conn.execute(
                "SELECT version FROM registered_model_aliases WHERE name = :n AND alias = :a",
                {"n": name, "a": parsed.alias},
            )
            if not rows:
                raise InvalidParameter(f"Registered model alias {parsed.alias} not found.")
            return name, int(rows[0][0])
        if parsed.stage:
            condition, stage = "=", ModelVersionStage.parse(parsed.stage).value
        else:
            condition, stage = "<>", STAGE_DELETED_INTERNAL
        found = conn.execute(
            "SELECT MAX(version) FROM model_versions "
            f"WHERE name = :n AND current_stage {condition} :stage",
            {"n": name, "stage": stage},
        )
        if not found or found[0][0] is None:
            where = f" and stage '{parsed.stage}'" if parsed.stage else ""
            raise NotFound(f"No versions of model with name '{name}'{where} found")
        return name, int(found[0][0])

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        storage_location: str | None = None,
    ) -> ModelVersion:
        name = validate_model_name(name)
        source, run_id, run_link = validate_model_version_fields(source, run_id, run_link, model_id)
        checked = tag_map(tags)
        t = now_ms()
        with self.db.write() as conn:
            # Touching the model first also locks its row on PostgreSQL, so concurrent creations
            # for one model queue here and each reads the true highest version below.
            if not conn.execute_rowcount(
                "UPDATE registered_models SET last_updated_time = :t WHERE name = :n",
                {"t": t, "n": name},
            ):
                raise _model_not_found(name)
            location = source
            if source.startswith("models:"):
                resolved = self._resolve_version(conn, source)
                if resolved is not None:
                    location = self._download_uri(conn, *resolved)
                else:  # models:/<model_id>: the logged model's files and its run, as MLflow
                    model_id = model_id or parse_model_uri(source).model_id
                    if storage_location:  # looked up by the caller, in its tracking store
                        location = storage_location
                    else:
                        location, source_run = self._logged_model(conn, str(model_id))
                        run_id = run_id or source_run
            elif model_id and not run_id and not storage_location:
                run_id = self._logged_model(conn, model_id)[1]
            latest = conn.execute(
                "SELECT MAX(version) FROM model_versions WHERE name = :n", {"n": name}
            )[0][0]
            version = int(latest or 0) + 1
            conn.execute(
                "INSERT INTO model_versions (name, version, creation_time, last_updated_time, "
                "description, current_stage, source, storage_location, run_id, run_link, "
                "status, model_id) VALUES (:n, :v, :t, :t, :d, :stage, :src, :loc, :run, "
                ":link, 'READY', :mid)",
                {
                    "n": name,
                    "v": version,
                    "t": t,
                    "d": description,
                    "stage": ModelVersionStage.NONE.value,
                    "src": source,
                    "loc": location,
                    "run": run_id,
                    "link": run_link,
                    "mid": model_id or None,
                },
            )
            if checked:
                conn.executemany(
                    "INSERT INTO model_version_tags (name, version, key, value) "
                    "VALUES (:n, :v, :k, :val)",
                    [{"n": name, "v": version, "k": k, "val": val} for k, val in checked.items()],
                )
            return self._load_version(conn, name, version)

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        name, number = validate_model_name(name), validate_version(version)
        with self.db.read() as conn:
            return self._load_version(conn, name, number)

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        name, number = validate_model_name(name), validate_version(version)
        with self.db.write() as conn:
            n = conn.execute_rowcount(
                "UPDATE model_versions SET description = :d, last_updated_time = :t "
                "WHERE name = :n AND version = :v AND current_stage <> :deleted",
                {
                    "d": description,
                    "t": now_ms(),
                    "n": name,
                    "v": number,
                    "deleted": STAGE_DELETED_INTERNAL,
                },
            )
            if n == 0:
                raise _version_not_found(name, number)
            return self._load_version(conn, name, number)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        name, number = validate_model_name(name), validate_version(version)
        target = ModelVersionStage.parse(stage)
        if archive_existing_versions and target not in _ACTIVE_STAGES:
            raise InvalidParameter(
                "Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are "
                f"{[s.value for s in _ACTIVE_STAGES]}"
            )
        t = now_ms()
        with self.db.write() as conn:
            self._require_version(conn, name, number)
            if archive_existing_versions:
                conn.execute(
                    "UPDATE model_versions SET current_stage = :archived, last_updated_time = :t "
                    "WHERE name = :n AND version <> :v AND current_stage = :stage",
                    {
                        "archived": ModelVersionStage.ARCHIVED.value,
                        "t": t,
                        "n": name,
                        "v": number,
                        "stage": target.value,
                    },
                )
            conn.execute(
                "UPDATE model_versions SET current_stage = :stage, last_updated_time = :t "
                "WHERE name = :n AND version = :v",
                {"stage": target.value, "t": t, "n": name, "v": number},
            )
            conn.execute(
                "UPDATE registered_models SET last_updated_time = :t WHERE name = :n",
                {"t": t, "n": name},
            )
            return self._load_version(conn, name, number)

    def delete_model_version(self, name: str, version: str | int) -> None:
        name, number = validate_model_name(name), validate_version(version)
        t = now_ms()
        with self.db.write() as conn:
            self._require_version(conn, name, number)
            conn.execute(
                "DELETE FROM registered_model_aliases WHERE name = :n AND version = :v",
                {"n": name, "v": number},
            )
            # Keep the row, redacted as MLflow does, so that the number is never handed out again.
            conn.execute(
                "UPDATE model_versions SET current_stage = :deleted, last_updated_time = :t, "
                "description = NULL, user_id = NULL, source = 'REDACTED-SOURCE-PATH', "
                "storage_location = NULL, run_id = 'REDACTED-RUN-ID', "
                "run_link = 'REDACTED-RUN-LINK', status_message = NULL "
                "WHERE name = :n AND version = :v",
                {"deleted": STAGE_DELETED_INTERNAL, "t": t, "n": name, "v": number},
            )
            conn.execute(
                "UPDATE registered_models SET last_updated_time = :t WHERE name = :n",
                {"t": t, "n": name},
            )

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        name, number = validate_model_name(name), validate_version(version)
        with self.db.read() as conn:
            return self._download_uri(conn, name, number)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        max_results = v.validate_max_results(
            max_results, SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD
        )
        offset = decode_page_token(page_token)
        search = compile_model_versions_search(filter_string, order_by, self.db.dialect)
        sql = (
            f"SELECT {_cols('mv', _MV_COLUMNS)} FROM model_versions mv "
            f"WHERE mv.current_stage <> :mv_deleted AND {search.where} "
            f"ORDER BY {search.order_by} LIMIT :limit OFFSET :offset"
        )
        params = {
            **search.params,
            "mv_deleted": STAGE_DELETED_INTERNAL,
            "limit": max_results + 1,
            "offset": offset,
        }
        with self.db.read() as conn:
            rows = conn.execute(sql, params)
            versions = self._versions_from_rows(conn, rows[:max_results])
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(versions, token)

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        name, number = validate_model_name(name), validate_version(version)
        key, value = validate_registry_tag(key, value)
        with self.db.write() as conn:
            self._require_version(conn, name, number)
            conn.execute(
                "INSERT INTO model_version_tags (name, version, key, value) "
                "VALUES (:n, :v, :k, :val) "
                "ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
                {"n": name, "v": number, "k": key, "val": value},
            )

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        name, number = validate_model_name(name), validate_version(version)
        key = v.validate_key("Tag", key)
        with self.db.write() as conn:
            self._require_version(conn, name, number)
            conn.execute(
                "DELETE FROM model_version_tags WHERE name = :n AND version = :v AND key = :k",
                {"n": name, "v": number, "k": key},
            )

    # ------------------------------------------------------------------ aliases
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        name = validate_model_name(name)
        alias = validate_alias(alias, settable=True)
        number = validate_version(version)
        with self.db.write() as conn:
            self._require_version(conn, name, number)
            conn.execute(
                "INSERT INTO registered_model_aliases (name, alias, version) "
                "VALUES (:n, :a, :v) ON CONFLICT (name, alias) DO UPDATE SET version = "
                "excluded.version",
                {"n": name, "a": alias, "v": number},
            )

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        name = validate_model_name(name)
        alias = validate_alias(alias, settable=False)
        with self.db.write() as conn:
            self._require_model(conn, name)
            conn.execute(
                "DELETE FROM registered_model_aliases WHERE name = :n AND alias = :a",
                {"n": name, "a": alias},
            )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        name = validate_model_name(name)
        alias = validate_alias(alias, settable=False)
        with self.db.read() as conn:
            self._require_model(conn, name)
            if alias.lower() == LATEST_ALIAS:
                found = conn.execute(
                    "SELECT MAX(version) FROM model_versions "
                    "WHERE name = :n AND current_stage <> :deleted",
                    {"n": name, "deleted": STAGE_DELETED_INTERNAL},
                )
                if not found or found[0][0] is None:
                    raise NotFound(f"Latest version not found for model {name}.")
                return self._load_version(conn, name, int(found[0][0]))
            rows = conn.execute(
                "SELECT version FROM registered_model_aliases WHERE name = :n AND alias = :a",
                {"n": name, "a": alias},
            )
            if not rows:
                raise InvalidParameter(f"Registered model alias {alias} not found.")
            return self._load_version(conn, name, int(rows[0][0]))
