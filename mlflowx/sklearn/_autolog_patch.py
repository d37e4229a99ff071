"""Patching scikit-learn's training methods for autologging, and undoing it exactly.

Each patched ``fit``/``fit_transform``/``fit_predict`` calls the installed hook only for the
outermost fit: a ``ContextVar`` marks "inside an autologged fit", so the fits a Pipeline or a
search runs on its steps and candidates go straight to the original method. scikit-learn's own
``Parallel`` carries that mark into its worker threads (the threading backend); worker processes
never see the patches at all.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

__all__ = ["FitHook", "estimator_classes", "install", "is_installed", "uninstall"]

#: ``hook(original, estimator, args, kwargs)`` runs the outermost fit; it must call ``original``.
FitHook = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

FIT_METHODS = ("fit", "fit_transform", "fit_predict")
# MLflow's choice: data-manipulation steps do not get runs of their own when fitted alone.
_EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
_EXCLUDED_CLASSES = {"sklearn.compose._column_transformer.ColumnTransformer"}

_ORIGINAL = "__mlflowx_autolog_original__"
_NESTED = "_mlflowx_autolog_nested"
_MISSING = object()

_in_fit: ContextVar[bool] = ContextVar("mlflowx_sklearn_autolog_in_fit", default=False)
_lock = threading.Lock()
_hook: FitHook | None = None
#: (owner, attribute) -> what the owner's own ``__dict__`` held before patching.
_saved: dict[tuple[type, str], object] = {}


def estimator_classes() -> list[type]:
    """The classes autolog patches: ``all_estimators()`` and the meta-estimators, without the
    preprocessing families MLflow leaves alone."""
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = {cls for _, cls in all_estimators()} | {Pipeline, GridSearchCV, RandomizedSearchCV}
    return sorted(
        (
            cls
            for cls in classes
            if not cls.__module__.startswith(_EXCLUDED_MODULES)
            and f"{cls.__module__}.{cls.__name__}" not in _EXCLUDED_CLASSES
        ),
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


def is_installed() -> bool:
    return _hook is not None


def install(hook: FitHook, classes: Callable[[], Iterable[type]]) -> None:
    """Patch the ``classes()`` (once: later calls only swap the hook) and route their outermost
    fits to ``hook``."""
    global _hook
    with _lock:
        _hook = hook
        if _saved:
            return
        for cls in classes():
            for name in FIT_METHODS:
                _patch_method(cls, name)
        _patch_parallel()


def uninstall() -> None:
    """Put back exactly what every patched class held (or remove what it inherited)."""
    global _hook
    with _lock:
        _hook = None
        for (owner, name), before in reversed(list(_saved.items())):
            if before is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, before)
        _saved.clear()


def _set(owner: type, name: str, value: object) -> None:
    _saved.setdefault((owner, name), owner.__dict__.get(name, _MISSING))
    setattr(owner, name, value)


def _resolve(cls: type, name: str) -> object:
    """The raw attribute (no descriptor protocol) that ``cls.<name>`` finds, or _MISSING."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return _MISSING


def _patch_method(cls: type, name: str) -> None:
    raw: Any = _resolve(cls, name)
    if inspect.isfunction(raw):
        if not hasattr(raw, _ORIGINAL):  # else inherited from a class patched already
            _set(cls, name, _wrap(raw))
        return
    fn = getattr(raw, "fn", None)
    # sklearn's ``available_if`` descriptor: keep it (hasattr must stay conditional), wrapping
    # the function it guards. Anything else (a property raising AttributeError) is left alone.
    if inspect.isfunction(fn) and hasattr(raw, "check") and not hasattr(fn, _ORIGINAL):
        patched = copy.copy(raw)
        patched.fn = _wrap(fn)
        _set(cls, name, patched)


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        hook = _hook
        if hook is None or _in_fit.get():
            return original(self, *args, **kwargs)
        token = _in_fit.set(True)
        try:
            return hook(original, self, args, kwargs)
        finally:
            _in_fit.reset(token)

    setattr(patched, _ORIGINAL, original)
    return patched


def _patch_parallel() -> None:
    """Carry the "inside a fit" mark into sklearn's ``Parallel`` worker threads.

    ``Parallel.__call__`` runs in the fitting thread, so it can see the mark; it tags each task
    (a ``_FuncWrapper``), and the task sets the mark again in whichever thread runs it. In
    worker processes the tag is an inert attribute.
    """
    try:
        from sklearn.utils import parallel
    except ImportError:  # scikit-learn < 1.3: no such module; nested threads are not marked
        return
    wrapper_cls = getattr(parallel, "_FuncWrapper", None)
    call_parallel = parallel.Parallel.__dict__.get("__call__")
    call_task = getattr(wrapper_cls, "__dict__", {}).get("__call__")
    if wrapper_cls is None or not inspect.isfunction(call_parallel):
        return
    if not inspect.isfunction(call_task):
        return

    @functools.wraps(call_parallel)
    def parallel_call(self: Any, iterable: Iterable[Any]) -> Any:
        if _in_fit.get():
            iterable = (_tag_nested(task, wrapper_cls) for task in iterable)
        return call_parallel(self, iterable)

    @functools.wraps(call_task)
    def task_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.__dict__.get(_NESTED) or _in_fit.get():
            return call_task(self, *args, **kwargs)
        token = _in_fit.set(True)
        try:
            return call_task(self, *args, **kwargs)
        finally:
            _in_fit.reset(token)

    _set(parallel.Parallel, "__call__", parallel_call)
    _set(wrapper_cls, "__call__", task_call)


def _tag_nested(task: Any, wrapper_cls: type) -> Any:
    # Only sklearn's per-task wrapper objects: a plain function is shared, never tag it.
    func = task[0] if isinstance(task, tuple) and task else None
    if isinstance(func, wrapper_cls):
        func.__dict__[_NESTED] = True
    return task
