"""Dataset references: scikit-learn's bundled datasets or a CSV file, split by seed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.orchestration.tasks.specs import DatasetSpec

__all__ = ["SKLEARN_DATASETS", "Split", "load_split"]

#: ``sklearn:<name>`` -> the loader in ``sklearn.datasets`` (all bundled, no download).
SKLEARN_DATASETS = {
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
    "diabetes": "load_diabetes",
}
DEFAULT_TARGET = "target"


@dataclass(frozen=True)
class Split:
    """Features and targets of one dataset, split into train and test parts."""

    name: str
    target: str
    x_train: Any
    x_test: Any
    y_train: Any
    y_test: Any
    frame: Any  # the whole table (features + target), for dataset logging

    def test_frame(self) -> Any:
        """The held-out rows with their target column."""
        return self.x_test.assign(**{self.target: self.y_test})


def _load_frame(spec: DatasetSpec) -> tuple[str, Any, str]:
    import pandas as pd

    ref = spec.ref
    if ref.startswith("sklearn:"):
        name = ref.partition(":")[2]
        if name not in SKLEARN_DATASETS:
            raise InvalidParameter(
                f"Unknown dataset {ref!r}; bundled: "
                + ", ".join(f"sklearn:{n}" for n in sorted(SKLEARN_DATASETS))
            )
        from sklearn import datasets

        bunch = getattr(datasets, SKLEARN_DATASETS[name])(as_frame=True)
        frame = bunch.frame
        target = spec.target or DEFAULT_TARGET
        if target not in frame.columns:
            raise InvalidParameter(f"Dataset {ref!r} has no column {target!r}")
        return name, frame, target
    target = spec.target or DEFAULT_TARGET
    try:
        frame = pd.read_csv(ref)
    except FileNotFoundError as exc:
        raise InvalidParameter(f"Dataset {ref!r}: no such file") from exc
    if target not in frame.columns:
        raise InvalidParameter(
            f"Dataset {ref!r} has no target column {target!r}; columns: "
            + ", ".join(map(str, frame.columns))
        )
    name = ref.rstrip("/").rpartition("/")[2].removesuffix(".csv") or "dataset"
    return name, frame, target


def load_split(spec: DatasetSpec, *, classification: bool | None = None) -> Split:
    """Load ``spec.ref`` and split it by ``spec.seed`` (the same rows every time).

    Args:
        spec: the dataset reference and split settings.
        classification: stratify by the target when true; when ``None``, stratify when the
            target has few distinct values (at most 20, each appearing twice or more).
    """
    from sklearn.model_selection import train_test_split

    name, frame, target = _load_frame(spec)
    features = frame.drop(columns=[target])
    y = frame[target]
    if classification is None:
        counts = y.value_counts()
        classification = len(counts) <= 20 and int(counts.min()) >= 2
    stratify = y if (spec.stratify and classification) else None
    x_train, x_test, y_train, y_test = train_test_split(
        features, y, test_size=spec.test_size, random_state=spec.seed, stratify=stratify
    )
    return Split(name, target, x_train, x_test, y_train, y_test, frame)
