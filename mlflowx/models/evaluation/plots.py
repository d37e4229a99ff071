"""The evaluation plots, drawn with matplotlib's object-oriented API on the Agg canvas.

No pyplot: its global figure state is not thread-safe and it may pick an interactive backend.
"""

from __future__ import annotations

from typing import Any

from mlflowx.models.evaluation.metrics import Classification, sk_metrics

__all__ = ["classifier_figures", "residuals_figure"]

#: MLflow's ``max_classes_for_multiclass_roc_pr`` default: more curves than this are unreadable.
MAX_CLASSES_FOR_CURVES = 10


def _figure(width: float = 6.0, height: float = 4.5) -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            f"mlflowx.models.evaluate draws its plots with matplotlib: pip install matplotlib "
            f"({exc})"
        ) from exc
    # Fixed margins: a layout engine would cost more than the drawing itself.
    figure = Figure(figsize=(width, height), dpi=100)
    figure.subplots_adjust(left=0.14, right=0.95, bottom=0.14, top=0.91)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def confusion_matrix_figure(y_true: Any, y_pred: Any, labels: Any) -> Any:
    """Rows normalized to 1, as MLflow (and sklearn autologging) draw it."""
    matrix = sk_metrics().confusion_matrix(y_true, y_pred, labels=labels, normalize="true")
    figure, ax = _figure()
    image = ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=ax)
    ticks = range(len(labels))
    names = [str(label) for label in labels]
    rotate = len(labels) > 4
    ax.set_xticks(ticks, names, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    if rotate:
        figure.subplots_adjust(bottom=0.24)
    ax.set_yticks(ticks, names)
    size = min(10.0, 50.0 / len(labels))
    for i in ticks:
        for j in ticks:
            value = matrix[i, j]
            color = "white" if value > 0.5 else "black"
            ax.text(j, i, f"{value:.2g}", ha="center", va="center", color=color, fontsize=size)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title("Normalized confusion matrix")
    return figure


def _curves(y_true: Any, info: Classification, kind: str) -> list[tuple[str, Any, Any]]:
    """(legend, x, y) per curve: one for binary data, one-vs-rest per class otherwise."""
    m = sk_metrics()
    if info.binary:
        pairs = [(None, y_true == info.pos_label, info.proba[:, 1])]
    else:
        # A class absent from the targets has no curve (no true positives to find).
        pairs = [
            (label, y_true == label, info.proba[:, j])
            for j, label in enumerate(info.labels)
            if (y_true == label).any()
        ]
    series = []
    for label, hits, scores in pairs:
        if kind == "roc":
            x, y, _ = m.roc_curve(hits, scores)
            legend = f"AUC={m.roc_auc_score(hits, scores):.3f}"
        else:
            y, x, _ = m.precision_recall_curve(hits, scores)
            legend = f"AP={m.average_precision_score(hits, scores):.3f}"
        series.append((legend if label is None else f"label={label}, {legend}", x, y))
    return series


def curve_figure(y_true: Any, info: Classification, kind: str) -> Any:
    """The ROC (``kind="roc"``) or precision-recall (``"pr"``) curve."""
    figure, ax = _figure()
    for legend, x, y in _curves(y_true, info, kind):
        ax.plot(x, y, drawstyle="steps-post", linewidth=1, label=legend)
    suffix = f" (Positive label: {info.pos_label})" if info.binary else ""
    dashed = {"color": "gray", "alpha": 0.3, "linestyle": "dashed"}
    if kind == "roc":
        ax.plot([0, 1], [0, 1], **dashed)
        ax.set_xlabel(f"False Positive Rate{suffix}")
        ax.set_ylabel(f"True Positive Rate{suffix}")
        ax.set_title("ROC curve")
        ax.legend(loc="lower right", fontsize="small")
    else:
        ax.plot([0, 1], [1, 0], **dashed)
        ax.set_xlabel(f"Recall{suffix}")
        ax.set_ylabel(f"Precision{suffix}")
        ax.set_title("Precision recall curve")
        ax.legend(loc="lower left", fontsize="small")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    return figure


def classifier_figures(
    y_true: Any, y_pred: Any, info: Classification, max_classes: int = MAX_CLASSES_FOR_CURVES
) -> dict[str, Any]:
    """Artifact name -> figure: the confusion matrix always; the ROC and precision-recall curves
    when the model gives probabilities (and there are at most ``max_classes`` classes)."""
    figures = {"confusion_matrix": confusion_matrix_figure(y_true, y_pred, info.labels)}
    if info.proba is not None and (info.binary or len(info.labels) <= max_classes):
        figures["roc_curve_plot"] = curve_figure(y_true, info, "roc")
        figures["precision_recall_curve_plot"] = curve_figure(y_true, info, "pr")
    return figures


def residuals_figure(y_true: Any, y_pred: Any) -> Any:
    """Residuals (target - prediction) against predictions, with the zero line."""
    import numpy as np

    residuals = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    figure, ax = _figure()
    ax.scatter(y_pred, residuals, s=10, alpha=0.6, edgecolors="none")
    ax.axhline(0.0, color="gray", linestyle="dashed", linewidth=1)
    ax.set_xlabel("Predicted value")
    ax.set_ylabel("Residual (target - prediction)")
    ax.set_title("Residuals")
    return figure
