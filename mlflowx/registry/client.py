"""The model registry client: ``MlflowClient``'s registry methods, over any registry store.

:class:`RegistryClientMixin` gives them to :class:`~mlflowx.MlflowxClient`;
:class:`RegistryClient` is the registry on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from mlflowx.entities import ModelVersion, ModelVersionStage, PagedList, RegisteredModel
from mlflowx.exceptions import InvalidParameter, MlflowxError, NotFound
from mlflowx.registry._resolve import resolve_parsed
from mlflowx.store.model_registry import RegistryStore, get_registry_store
from mlflowx.store.model_registry.base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
)
from mlflowx.utils.uri import parse_model_uri

__all__ = ["DEFAULT_AWAIT_MAX_SLEEP_SECONDS", "RegistryClient", "RegistryClientMixin"]

#: MLflow's default wait for a new version to become READY (ours are READY at once).
DEFAULT_AWAIT_MAX_SLEEP_SECONDS = 300


def _strs(tags: Mapping[str, Any] | None) -> dict[str, str]:
    return {k: str(v) for k, v in (tags or {}).items()}


def _logged_model_id(source: str) -> str | None:
    """The logged model a ``models:/<model_id>`` source names (not a registry name/version)."""
    if not source.startswith("models:"):
        return None
    try:
        return parse_model_uri(source).model_id
    except MlflowxError:
        return None


class RegistryClientMixin:
    """Registered models, versions, tags, stages and aliases, addressed by name.

    The registry lives at ``registry_uri``: by default the tracking URI, as in MLflow (see
    :func:`mlflowx.get_registry_uri`).
    """

    registry_uri: str

    @property
    def registry_store(self) -> RegistryStore:
        return get_registry_store(self.registry_uri)

    # ------------------------------------------------------------------ registered models
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        return self.registry_store.create_registered_model(name, _strs(tags), description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.registry_store.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.registry_store.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        return self.registry_store.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        self.registry_store.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        return self.registry_store.search_registered_models(
            filter_string, max_results, order_by, page_token
        )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each stage (of ``stages``, or of every stage)."""
        return self.registry_store.get_latest_versions(name, stages)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self.registry_store.set_registered_model_tag(name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.registry_store.delete_registered_model_tag(name, key)

    # ------------------------------------------------------------------ versions
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as the next version of ``name`` (versions count from 1).

        ``await_creation_for`` is accepted for MLflow compatibility; versions are READY at once.
        """
        from mlflowx.store.model_registry.rest import RestRegistryStore  # not on import

        store = self.registry_store
        location = None
        logged = model_id or _logged_model_id(str(source))
        if logged and not isinstance(store, RestRegistryStore) and self._registry_apart():
            # The registry keeps its own database: the logged model is in the tracking store.
            from mlflowx.store.tracking import get_tracking_store

            found = get_tracking_store(self._tracking_uri()).get_logged_model(logged)
            location, run_id = found.artifact_location, run_id or found.source_run_id
        return store.create_model_version(
            name, str(source), run_id, _strs(tags), run_link, description, model_id, location
        )

    def _tracking_uri(self) -> str:
        from mlflowx.store.uris import get_tracking_uri

        return getattr(self, "tracking_uri", None) or get_tracking_uri()

    def _registry_apart(self) -> bool:
        return self.registry_uri != self._tracking_uri()

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self.registry_store.get_model_version(name, version)

    def update_model_version(
        self, name: str, version: str | int, description: str | None = None
    ) -> ModelVersion:
        return self.registry_store.update_model_version(name, version, description)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        return self.registry_store.transition_model_version_stage(
            name, version, stage, archive_existing_versions
        )

    def get_model_version_stages(self, name: str, version: str | int) -> list[str]:
        return [s.value for s in ModelVersionStage]

    def delete_model_version(self, name: str, version: str | int) -> None:
        self.registry_store.delete_model_version(name, version)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        return self.registry_store.get_model_version_download_uri(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        return self.registry_store.search_model_versions(
            filter_string, max_results, order_by, page_token
        )

    def _version_in(self, name: str, version: str | int | None, stage: str | None) -> str:
        """MLflow lets tag calls name a stage instead of a version: its newest version."""
        if version is not None and stage is not None:
            raise InvalidParameter("version and stage cannot be set together")
        if version is not None:
            return str(version)
        if stage is None:
            raise InvalidParameter("version or stage must be set")
        latest = self.get_latest_versions(name, [stage])
        if not latest:
            raise NotFound(f"Could not find any model version for {stage} stage")
        return latest[0].version

    def set_model_version_tag(
        self,
        name: str,
        version: str | int | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        self.registry_store.set_model_version_tag(
            name, self._version_in(name, version, stage), key or "", str(value)
        )

    def delete_model_version_tag(
        self,
        name: str,
        version: str | int | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        self.registry_store.delete_model_version_tag(
            name, self._version_in(name, version, stage), key or ""
        )

    # ------------------------------------------------------------------ aliases
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self.registry_store.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.registry_store.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.registry_store.get_model_version_by_alias(name, alias)

    # ------------------------------------------------------------------ copies
    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Copy the version ``src_model_uri`` names to a new version of ``dst_name``.

        ``src_model_uri`` is a registry URI: ``models:/<name>/<version>``,
        ``models:/<name>@<alias>`` or ``models:/<name>/<stage>``. The destination model is
        created if it does not exist. The copy's source is ``models:/<name>/<version>`` of the
        version copied; it keeps that version's run, tags, description and logged model (as
        MLflow's ``copy_model_version``).
        """
        if urlsplit(str(src_model_uri)).scheme != "models":
            raise InvalidParameter(
                f"Unsupported source model URI: {src_model_uri!r}. copy_model_version only "
                "copies registered model versions, named by a 'models:/' URI"
            )
        store = self.registry_store
        try:
            parsed = parse_model_uri(str(src_model_uri), allow_path=False)
            src = store.get_model_version(*resolve_parsed(parsed, str(src_model_uri), store))
        except MlflowxError as exc:
            raise type(exc)(
                f"Failed to fetch model version from source model URI {src_model_uri!r}: "
                f"{exc.message}"
            ) from None
        return store.copy_model_version(src, dst_name)


class RegistryClient(RegistryClientMixin):
    """The model registry alone, at ``registry_uri`` (default: :func:`mlflowx.get_registry_uri`,
    which is the tracking URI unless a registry URI is set)."""

    def __init__(self, registry_uri: str | None = None) -> None:
        from mlflowx.store.uris import get_tracking_uri, resolve_registry_uri

        self.registry_uri = resolve_registry_uri(registry_uri)
        #: Where logged models are looked up when a version is made from one.
        self.tracking_uri = get_tracking_uri()
