"""Model flavors: one class per framework, registered by name.

Loading looks a flavor up by its name in :data:`FLAVORS`; the module an MLmodel file names as
``loader_module`` is never imported (MLflow imports it, which lets a file choose code to run).
Each flavor says, from the MLmodel alone, which of the model's files would run code as they
load (:meth:`Flavor.needs`), so the load policy is checked before anything is read, and checks
again right before each such file is unpickled or run. Every file path a flavor reads from an
MLmodel goes through :func:`mlflowx.models.paths.model_file`.

Third-party flavors plug in without editing mlflowx: a distribution declares an entry point in
the ``mlflowx.flavors`` group naming its :class:`Flavor` subclass (or a module defining one),
e.g. ``[project.entry-points."mlflowx.flavors"] acme = "acme_mlflowx:AcmeFlavor"``. They are
loaded the first time a flavor is looked up; a built-in flavor's name cannot be taken over.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mlflowx.models.policy import LoadPolicy, Need

__all__ = [
    "ENTRY_POINT_GROUP",
    "FLAVORS",
    "Flavor",
    "PredictFn",
    "SavedFlavor",
    "flavor_for_loader_module",
]

#: The entry-point group third-party distributions register their flavors in.
ENTRY_POINT_GROUP = "mlflowx.flavors"
log = logging.getLogger(__name__)


class PredictFn(ABC):
    """What pyfunc calls: ``predict(data, params)`` on already-validated input."""

    @abstractmethod
    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...

    def unwrap(self) -> Any:
        return self


@dataclass
class SavedFlavor:
    """What a flavor's ``save`` wrote: its MLmodel section, the python_function section (None
    when the model cannot predict), and the modules the model's objects come from."""

    conf: dict[str, Any]
    pyfunc_conf: dict[str, Any] | None
    modules: set[str] = field(default_factory=set)
    requirements: list[str] = field(default_factory=list)


class Flavor(ABC):
    name: ClassVar[str]
    #: The ``loader_module`` MLflow writes for this flavor (so MLflow can load our models), and
    #: the names that map to this flavor when reading MLmodel files.
    loader_modules: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "name" in cls.__dict__:
            FLAVORS[cls.name] = cls

    @abstractmethod
    def save(self, model: Any, path: Path, **options: Any) -> SavedFlavor: ...

    @abstractmethod
    def needs(self, path: Path, conf: dict[str, Any]) -> list[Need]:
        """The files :meth:`load` would unpickle or run, read from ``conf`` (nothing loads)."""

    @abstractmethod
    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        """The files :meth:`pyfunc` would unpickle or run."""

    @abstractmethod
    def load(self, path: Path, conf: dict[str, Any], policy: LoadPolicy) -> Any:
        """The native model object (e.g. the fitted estimator)."""

    @abstractmethod
    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn: ...


FLAVORS: dict[str, type[Flavor]] = {}


def flavor_for_loader_module(loader_module: str) -> type[Flavor] | None:
    _load_builtin()
    for flavor in FLAVORS.values():
        if loader_module in flavor.loader_modules:
            return flavor
    return None


def get_flavor(name: str) -> type[Flavor] | None:
    _load_builtin()
    return FLAVORS.get(name)


_plugins_loaded = False


def _load_builtin() -> None:
    # Importing registers them; each imports its framework lazily.
    import mlflowx.models.flavors.keras
    import mlflowx.models.flavors.lightgbm
    import mlflowx.models.flavors.onnx
    import mlflowx.models.flavors.pyfunc
    import mlflowx.models.flavors.pytorch
    import mlflowx.models.flavors.sklearn
    import mlflowx.models.flavors.statsmodels
    import mlflowx.models.flavors.xgboost  # noqa: F401

    if not _plugins_loaded:
        _load_plugins()


def _load_plugins() -> None:
    """Import the flavors installed distributions declare in :data:`ENTRY_POINT_GROUP`."""
    global _plugins_loaded
    from importlib.metadata import entry_points

    _plugins_loaded = True
    builtin = dict(FLAVORS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else "an unknown distribution"
        try:
            loaded = ep.load()
        except Exception as exc:  # one broken plugin must not stop every model from loading
            log.warning("Skipping flavor entry point %r of %s: %s", ep.value, dist, exc)
            continue
        if isinstance(loaded, type) and issubclass(loaded, Flavor) and "name" in vars(loaded):
            FLAVORS[loaded.name] = loaded
        for name, flavor in builtin.items():
            if FLAVORS.get(name) is not flavor:
                log.warning(
                    "Flavor entry point %r of %s redefines the built-in flavor %r; keeping the "
                    "built-in one",
                    ep.value,
                    dist,
                    name,
                )
                FLAVORS[name] = flavor
