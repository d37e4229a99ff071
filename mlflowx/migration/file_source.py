"""MLflow's file store (``./mlruns``), read from its documented folder layout.

``<experiment>/meta.yaml`` and ``tags/``; ``<experiment>/<run>/meta.yaml``, ``params/``,
``tags/`` and ``metrics/`` (one ``timestamp value step`` line per point), ``inputs/``;
``<experiment>/datasets/<id>/meta.yaml``; ``<experiment>/models/<model id>/`` (logged models);
``models/<name>/`` (the registry: ``meta.yaml``, ``tags/``, ``aliases/``, ``version-<n>/``);
``.trash/`` holds deleted experiments. A key with ``/`` is a nested file.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from mlflowx.entities import Dataset, DatasetInput, InputTag, Metric
from mlflowx.exceptions import InvalidParameter
from mlflowx.migration.records import (
    SourceExperiment,
    SourceLoggedModel,
    SourceModelVersion,
    SourceRegisteredModel,
    SourceRun,
)
from mlflowx.migration.sources import MlflowSource, model_status_name, status_name

__all__ = ["FileSource"]


def _meta(path: Path) -> dict[str, Any]:
    data = (
        yaml.safe_load((path / "meta.yaml").read_text()) if (path / "meta.yaml").is_file() else {}
    )
    return data if isinstance(data, dict) else {}


def _values(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` as key (its relative path) -> content."""
    if not folder.is_dir():
        return {}
    return {
        f.relative_to(folder).as_posix(): f.read_text()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


def _metric(key: str, line: str) -> Metric:
    parts = line.split()
    value = float(parts[1]) if parts[1].lower() != "nan" else math.nan
    return Metric(key, value, int(parts[0]), int(parts[2]) if len(parts) > 2 else 0)


def _model_metrics(folder: Path) -> list[Metric]:
    """A logged model's metric files: ``timestamp value step run_id [dataset digest]`` lines."""
    found = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if not path.is_file():
            continue
        key = path.relative_to(folder).as_posix()
        for line in path.read_text().splitlines():
            ts, value, step, run_id, *dataset = line.split()
            name, digest = dataset if len(dataset) == 2 else (None, None)
            found.append(Metric(key, float(value), int(ts), int(step), run_id, None, name, digest))
    return found


class FileSource(MlflowSource):
    def __init__(self, root: Path) -> None:
        if not root.is_dir() or not any(
            (p / "meta.yaml").is_file() for p in root.iterdir() if p.is_dir()
        ):
            raise InvalidParameter(
                f"{root} is not an MLflow file store (no <experiment>/meta.yaml in it)"
            )
        self.root = root
        self.uri = str(root)
        self._dirs: dict[str, Path] = {}

    def _experiment_dirs(self) -> Iterator[Path]:
        for parent in (self.root, self.root / ".trash"):
            if parent.is_dir():
                for d in sorted(parent.iterdir()):
                    if (
                        d.is_dir()
                        and d.name not in ("models", ".trash")
                        and (d / "meta.yaml").is_file()
                    ):
                        yield d

    def experiments(self) -> list[SourceExperiment]:
        found = []
        for d in self._experiment_dirs():
            meta = _meta(d)
            eid = str(meta.get("experiment_id", d.name))
            self._dirs[eid] = d
            found.append(
                SourceExperiment(
                    eid,
                    str(meta.get("name", eid)),
                    str(meta.get("artifact_location") or ""),
                    str(meta.get("lifecycle_stage", "active")),
                    meta.get("creation_time"),
                    _values(d / "tags"),
                )
            )
        return found

    def _dir(self, experiment_id: str) -> Path:
        if not self._dirs:
            self.experiments()
        return self._dirs[experiment_id]

    def run_ids(self, experiment_id: str) -> list[str]:
        d = self._dir(experiment_id)
        runs = [
            (int(_meta(r).get("start_time") or 0), r.name)
            for r in d.iterdir()
            if r.is_dir()
            and r.name not in ("models", "datasets", "tags")
            and (r / "meta.yaml").is_file()
        ]
        return [name for _, name in sorted(runs)]

    def run(self, experiment_id: str, run_id: str) -> SourceRun:
        d = self._dir(experiment_id) / run_id
        meta = _meta(d)
        run = SourceRun(
            run_id,
            experiment_id,
            meta.get("run_name") or None,
            meta.get("user_id"),
            status_name(meta.get("status", 3)),
            meta.get("start_time"),
            meta.get("end_time"),
            str(meta.get("lifecycle_stage", "active")),
            str(meta.get("artifact_uri") or ""),
        )
        run.params = _values(d / "params")
        run.tags = _values(d / "tags")
        for key, text in _values(d / "metrics").items():
            run.metrics.extend(_metric(key, line) for line in text.splitlines() if line.strip())
        run.inputs = self._inputs(experiment_id, d)
        run.model_inputs = self.model_inputs(experiment_id, run_id)
        return run

    def model_inputs(self, experiment_id: str, run_id: str) -> list[str]:
        inputs = self._dir(experiment_id) / run_id / "inputs"
        metas = [_meta(i) for i in sorted(inputs.iterdir())] if inputs.is_dir() else []
        return sorted(str(m["source_id"]) for m in metas if m.get("source_type") == "MODEL")

    def run_location(self, experiment_id: str, run_id: str) -> tuple[str, str]:
        meta = _meta(self._dir(experiment_id) / run_id)
        return str(meta.get("artifact_uri") or ""), str(meta.get("lifecycle_stage", "active"))

    def _inputs(self, experiment_id: str, run_dir: Path) -> list[DatasetInput]:
        found = []
        inputs = run_dir / "inputs"
        for i in sorted(inputs.iterdir()) if inputs.is_dir() else []:
            meta = _meta(i)
            if meta.get("source_type") != "DATASET":
                continue
            ds = _meta(self._dir(experiment_id) / "datasets" / str(meta.get("source_id")))
            if not ds:
                continue
            dataset = Dataset(
                str(ds.get("name", "")),
                str(ds.get("digest", "")),
                str(ds.get("source_type", "")),
                str(ds.get("source", "")),
                ds.get("schema"),
                ds.get("profile"),
            )
            tags = [InputTag(str(k), str(v)) for k, v in (meta.get("tags") or {}).items()]
            found.append(DatasetInput(dataset, tags))
        return found

    def logged_models(self, experiment_id: str) -> list[SourceLoggedModel]:
        folder = self._dir(experiment_id) / "models"
        found = []
        for m in sorted(folder.iterdir()) if folder.is_dir() else []:
            meta = _meta(m)
            if not meta or meta.get("lifecycle_stage") == "deleted":
                continue
            found.append(
                SourceLoggedModel(
                    str(meta.get("model_id", m.name)),
                    experiment_id,
                    str(meta.get("name", "")),
                    str(meta.get("artifact_location") or ""),
                    model_status_name(meta.get("status", 2)),
                    meta.get("source_run_id"),
                    meta.get("model_type"),
                    _values(m / "params"),
                    _values(m / "tags"),
                    _model_metrics(m / "metrics"),
                )
            )
        return found

    def registered_models(self) -> Iterator[SourceRegisteredModel]:
        folder = self.root / "models"
        for d in sorted(folder.iterdir()) if folder.is_dir() else []:
            meta = _meta(d)
            if not meta:
                continue
            model = SourceRegisteredModel(str(meta.get("name", d.name)), meta.get("description"))
            model.tags = _values(d / "tags")
            aliases = meta.get("aliases") or {}
            aliases |= {k: v.strip() for k, v in _values(d / "aliases").items()}
            model.aliases = {str(a): int(v) for a, v in aliases.items()}
            for v in d.glob("version-*"):
                vm = _meta(v)
                if not vm or vm.get("current_stage") == "Deleted_Internal":
                    continue
                model.versions.append(
                    SourceModelVersion(
                        int(vm["version"]),
                        str(vm.get("source") or ""),
                        vm.get("run_id"),
                        vm.get("description"),
                        str(vm.get("current_stage") or "None"),
                        vm.get("model_id"),
                        _values(v / "tags"),
                    )
                )
            model.versions.sort(key=lambda x: x.version)
            yield model
