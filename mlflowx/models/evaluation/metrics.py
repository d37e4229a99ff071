"""The built-in metrics, named and computed as MLflow's default evaluator does
(``mlflow/models/evaluation/evaluators/classifier.py`` and ``regressor.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlflowx.exceptions import InvalidParameter

__all__ = ["Classification", "classifier_metrics", "labels_of", "regressor_metrics"]


def sk_metrics() -> Any:
    try:
        from sklearn import metrics
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            f"mlflowx.models.evaluate computes metrics with scikit-learn: pip install "
            f"scikit-learn ({exc})"
        ) from exc
    return metrics


def _numeric(values: Any) -> bool:
    return getattr(values, "dtype", None) is not None and values.dtype.kind in "iuf"


def regressor_metrics(y_true: Any, y_pred: Any, target_name: str) -> dict[str, Any]:
    import numpy as np

    if not _numeric(y_true):
        sample = ", ".join(repr(v) for v in y_true[:3])
        raise InvalidParameter(
            f"model_type='regressor' needs numeric targets, but {target_name!r} holds "
            f"{y_true.dtype} values such as {sample}"
        )
    if not _numeric(y_pred):
        raise InvalidParameter(
            f"model_type='regressor' needs numeric predictions, but the model returned "
            f"{y_pred.dtype} values such as {y_pred[0]!r}"
        )
    m = sk_metrics()
    mse = float(m.mean_squared_error(y_true, y_pred))
    total = float(np.sum(y_true))
    return {
        "example_count": len(y_true),
        "mean_absolute_error": float(m.mean_absolute_error(y_true, y_pred)),
        "mean_squared_error": mse,
        "root_mean_squared_error": float(np.sqrt(mse)),
        "sum_on_target": total,
        "mean_on_target": total / len(y_true),
        "r2_score": float(m.r2_score(y_true, y_pred)),
        "max_error": float(m.max_error(y_true, y_pred)),
        "mean_absolute_percentage_error": float(m.mean_absolute_percentage_error(y_true, y_pred)),
    }


@dataclass
class Classification:
    """What the plots need besides the metrics: the labels (sorted, positive last for binary
    data), the positive label, and the probabilities aligned with ``labels`` (or None)."""

    labels: Any
    pos_label: Any
    proba: Any

    @property
    def binary(self) -> bool:
        return len(self.labels) == 2


def labels_of(y_true: Any, y_pred: Any, config: Mapping[str, Any]) -> tuple[Any, Any]:
    """The label list (``label_list`` from the config, else every label seen) and the positive
    label of binary data (``pos_label``, else the largest label), as MLflow infers them."""
    import numpy as np

    given = config.get("label_list")
    try:
        labels = np.unique(np.concatenate([y_true, y_pred]) if given is None else np.asarray(given))
    except TypeError as exc:
        raise InvalidParameter(
            "Targets and predictions mix label types that cannot be compared (e.g. numbers and "
            f"strings): targets are {y_true.dtype}, predictions {y_pred.dtype}"
        ) from exc
    if len(labels) < 2:
        raise InvalidParameter(
            "Evaluating a classifier needs at least two labels, found "
            f"{labels.tolist()}; pass evaluator_config={{'label_list': [...]}} with every class"
        )
    pos_label = config.get("pos_label")
    if pos_label is not None and pos_label not in labels:
        raise InvalidParameter(f"pos_label {pos_label!r} is not a label: {labels.tolist()}")
    if len(labels) == 2:
        if pos_label is None:
            pos_label = labels[-1]
        labels = np.array([x for x in labels if x != pos_label] + [pos_label])
    return labels, pos_label


def align_proba(proba: Any, classes: Any, labels: Any) -> Any:
    """Reorder ``predict_proba`` columns (in ``classes`` order) to ``labels`` order; labels the
    model never saw get probability 0."""
    import numpy as np

    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2:
        raise InvalidParameter(f"predict_proba returned shape {proba.shape}, expected (rows, k)")
    classes = list(classes) if classes is not None else sorted(labels.tolist())
    if proba.shape[1] != len(classes):
        raise InvalidParameter(
            f"predict_proba returned {proba.shape[1]} columns for {len(classes)} classes {classes}"
        )
    aligned = np.zeros((proba.shape[0], len(labels)))
    for j, label in enumerate(labels):
        if label in classes:
            aligned[:, j] = proba[:, classes.index(label)]
    return aligned


def classifier_metrics(
    y_true: Any, y_pred: Any, proba: Any, classes: Any, config: Mapping[str, Any]
) -> tuple[dict[str, Any], Classification]:
    """Binary data: scores for ``pos_label``; multiclass: ``average`` (weighted by default)."""
    import numpy as np

    m = sk_metrics()
    labels, pos_label = labels_of(y_true, y_pred, config)
    aligned = None if proba is None else align_proba(proba, classes, labels)
    binary = len(labels) == 2
    average = "binary" if binary else config.get("average", "weighted")
    scoring = {"average": average, "pos_label": pos_label if binary else None}
    metrics: dict[str, Any] = {}
    if binary:
        tn, fp, fn, tp = m.confusion_matrix(y_true, y_pred, labels=labels).ravel()
        metrics.update(
            true_negatives=int(tn),
            false_positives=int(fp),
            false_negatives=int(fn),
            true_positives=int(tp),
        )
    metrics.update(
        example_count=len(y_true),
        accuracy_score=float(m.accuracy_score(y_true, y_pred)),
        recall_score=float(m.recall_score(y_true, y_pred, **scoring)),
        precision_score=float(m.precision_score(y_true, y_pred, **scoring)),
        f1_score=float(m.f1_score(y_true, y_pred, **scoring)),
    )
    if aligned is not None:
        # log_loss reads probability columns in sorted label order.
        order = np.argsort(labels)
        metrics["log_loss"] = float(m.log_loss(y_true, aligned[:, order], labels=labels[order]))
        if binary:
            pos = aligned[:, 1]
            metrics["roc_auc"] = float(m.roc_auc_score(y_true == pos_label, pos))
            metrics["precision_recall_auc"] = float(
                m.average_precision_score(y_true, pos, pos_label=pos_label)
            )
        elif average in ("macro", "weighted") and np.isin(labels, y_true).all():
            # One-vs-rest AUC is undefined for a class absent from the targets.
            metrics["roc_auc"] = float(
                m.roc_auc_score(y_true, aligned, average=average, multi_class="ovr", labels=labels)
            )
    return metrics, Classification(labels, pos_label, aligned)
