"""The model registry store contract, and the input checks every backend shares."""

from __future__ import annotations

import posixpath
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from mlflowx.entities import ModelVersion, PagedList, RegisteredModel
from mlflowx.exceptions import AlreadyExists, InvalidParameter
from mlflowx.store.locations import check_source
from mlflowx.utils import validation as v

__all__ = [
    "SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT",
    "SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD",
    "SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT",
    "SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD",
    "RegistryStore",
    "validate_alias",
    "validate_model_name",
    "validate_registry_tag",
    "validate_version",
]

SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT = 100
SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD = 1000
SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT = 10_000
SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD = 200_000

MAX_MODEL_NAME_LENGTH = 256
MAX_REGISTRY_TAG_KEY_LENGTH = 250
MAX_REGISTRY_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
MAX_SOURCE_LENGTH = 2000
MAX_RUN_ID_LENGTH = 32
MAX_MODEL_ID_LENGTH = 40
MAX_VERSION = 2**31 - 1
_ALIAS_RE = re.compile(r"^[\w\-]+$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")
#: ``latest`` (any case) names the newest version; it cannot be set as an alias.
LATEST_ALIAS = "latest"


def validate_model_name(name: Any, field: str = "name") -> str:
    """MLflow's rules: not blank, no ``/`` or ``:``, and not a path that normalises elsewhere."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter(
            f"Missing value for required parameter '{field}'. See the API docs for more "
            "information about request parameters."
        )
    if "/" in name or ":" in name:
        raise InvalidParameter(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    norm = posixpath.normpath(name)
    if norm != name or norm == "." or norm.startswith(".."):
        raise InvalidParameter(
            f"Invalid value '{name}' for parameter '{field}' supplied: names may be treated as "
            "files in certain cases, and must not resolve to other names when treated as such."
        )
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidParameter(
            f"Model name '{name[:40]}...' is {len(name)} characters long; the limit is "
            f"{MAX_MODEL_NAME_LENGTH}"
        )
    return name


def validate_version(version: Any) -> int:
    """A version number: an integer or its decimal string (``"3"``)."""
    try:
        if isinstance(version, bool):
            raise ValueError
        number = int(str(version).strip())
    except ValueError:
        raise InvalidParameter(
            f"Parameter 'version' must be an integer, got '{version}'."
        ) from None
    if not 0 <= number <= MAX_VERSION:  # the column is a 32-bit integer
        raise InvalidParameter(f"Parameter 'version' is out of range, got '{version}'.")
    return number


def validate_registry_tag(key: Any, value: Any) -> tuple[str, str]:
    key = v.validate_key("Tag", key, max_length=MAX_REGISTRY_TAG_KEY_LENGTH)
    return key, v.validate_value(
        "value", "" if value is None else value, MAX_REGISTRY_TAG_VALUE_LENGTH
    )


def validate_alias(alias: Any, *, settable: bool) -> str:
    """Alphanumerics, ``_`` and ``-``; ``latest`` and ``v<N>`` cannot be set (MLflow's rules)."""
    if not isinstance(alias, str) or not alias:
        raise InvalidParameter("Registered model alias name cannot be empty.")
    if not _ALIAS_RE.match(alias):
        raise InvalidParameter(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidParameter(
            f"Registered model alias name '{alias[:40]}...' is {len(alias)} characters long; "
            f"the limit is {MAX_ALIAS_LENGTH}"
        )
    if settable and alias.lower() == LATEST_ALIAS:
        raise InvalidParameter("'latest' alias name (case insensitive) is reserved.")
    if settable and _VERSION_ALIAS_RE.match(alias):
        raise InvalidParameter(f"Version alias name '{alias}' is reserved.")
    return alias


def validate_model_version_fields(
    source: Any, run_id: str | None, run_link: str | None, model_id: str | None = None
) -> tuple[str, str | None, str | None]:
    if not isinstance(source, str) or not source:
        raise InvalidParameter(
            "Missing value for required parameter 'source'. See the API docs for more "
            "information about request parameters."
        )
    for field, value, limit in (
        ("source", source, MAX_SOURCE_LENGTH),
        ("run_id", run_id, MAX_RUN_ID_LENGTH),
        ("run_link", run_link, MAX_SOURCE_LENGTH),
        ("model_id", model_id, MAX_MODEL_ID_LENGTH),
    ):
        if value is not None and len(value) > limit:
            raise InvalidParameter(
                f"Parameter '{field}' is {len(value)} characters long; the limit is {limit}"
            )
    check_source(source)
    return source, run_id or None, run_link or None


def tag_map(tags: Mapping[str, Any] | None) -> dict[str, str]:
    """Checked tags; a key given twice keeps its last value."""
    return dict(validate_registry_tag(k, val) for k, val in (tags or {}).items())


class RegistryStore(ABC):
    """Registered models, their numbered versions, tags and aliases (MLflow's model registry).

    Versions are numbered from 1 per model and never reused; a deleted version stays hidden.
    Every method is synchronous and validates its input.
    """

    # ------------------------------------------------------------------ registered models
    @abstractmethod
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> RegisteredModel: ...

    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel: ...

    @abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel: ...

    @abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel: ...

    @abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Delete the model with all its versions, tags and aliases."""

    @abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]: ...

    @abstractmethod
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when empty)."""

    @abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...

    @abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove the tag; a missing tag is not an error (the model must exist)."""

    # ------------------------------------------------------------------ versions
    @abstractmethod
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
        """The next version of ``name``. A version made from a logged model
        (``models:/<model_id>`` or ``model_id``) takes its files and run from the logged model;
        ``storage_location`` is where its files are when the caller has already looked the
        logged model up (it is kept in a tracking store this registry cannot read)."""

    @abstractmethod
    def get_model_version(self, name: str, version: str | int) -> ModelVersion: ...

    @abstractmethod
    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion: ...

    @abstractmethod
    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion: ...

    @abstractmethod
    def delete_model_version(self, name: str, version: str | int) -> None:
        """Delete the version and the aliases that point to it; its number is not reused."""

    @abstractmethod
    def get_model_version_download_uri(self, name: str, version: str | int) -> str: ...

    @abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]: ...

    @abstractmethod
    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        """Set a tag on a version (e.g. a link to the Prefect flow run that produced it)."""

    @abstractmethod
    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None: ...

    # ------------------------------------------------------------------ aliases
    @abstractmethod
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None: ...

    @abstractmethod
    def delete_registered_model_alias(self, name: str, alias: str) -> None: ...

    @abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points to; ``latest`` is the newest version."""

    def copy_model_version(self, src: ModelVersion, dst_name: str) -> ModelVersion:
        """``src`` as the next version of ``dst_name`` (the model is created if missing).

        As in MLflow (which does this in the client, with no REST endpoint of its own): the
        copy's source is ``models:/<src name>/<src version>`` (its files resolve to those of
        ``src``), and it keeps the run id, run link, description, tags and logged model of
        ``src``. Stage and aliases are not copied.
        """
        try:
            self.create_registered_model(dst_name)
        except AlreadyExists:
            pass
        return self.create_model_version(
            dst_name,
            f"models:/{src.name}/{src.version}",
            src.run_id,
            dict(src.tags),
            src.run_link,
            src.description,
            src.model_id,
        )

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing
        """Release connections; the store is unusable afterwards."""
