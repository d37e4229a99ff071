"""Take the README's screenshots of the web UI: a server on a temp store, seeded with a small
wine-classifier study through the mlflowx client, pictured in Chromium.

    .venv/bin/python docs/screenshots.py          # writes docs/ui-*.png
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

DOCS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def start(home: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(BIN / "mlflowx"), "server", "--backend-store-uri", f"sqlite:///{home / 'db'}",
         "--artifacts-destination", str(home / "artifacts"), "--port", str(port)],
        env={**os.environ, "MLFLOWX_HOME": str(home), "PREFECT_UI_URL": "http://127.0.0.1:4200"},
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def seed(url: str) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import ConfusionMatrixDisplay

    import mlflowx
    import mlflowx.sklearn

    rng = random.Random(4)
    mlflowx.set_tracking_uri(url)
    experiment = mlflowx.set_experiment("wine-quality")
    x, y = load_wine(return_X_y=True, as_frame=True)
    ids: dict[str, str] = {"experiment": experiment.experiment_id}
    for i in range(24):
        model = rng.choice(["logistic", "forest", "boosting"])
        with mlflowx.start_run(run_name=f"{model}-{i:02d}") as run:
            mlflowx.set_tags({"team": rng.choice(["vision", "tabular"]), "dataset": "wine"})
            lr, depth = round(10 ** rng.uniform(-3, -1), 4), rng.randint(2, 9)
            mlflowx.log_params({"model": model, "learning_rate": lr, "max_depth": depth})
            loss, acc = 2.2, 0.3
            for step in range(60):
                loss *= rng.uniform(0.9, 0.985)
                acc = min(0.995, acc + rng.uniform(0.0, 0.025))
                mlflowx.log_metrics({"loss": loss, "accuracy": acc}, step=step)
            mlflowx.log_metric("f1", acc - rng.uniform(0.0, 0.03))
            if i % 8 == 0:
                for fold in range(3):
                    with mlflowx.start_run(run_name=f"{model}-{i:02d}-fold{fold}", nested=True):
                        mlflowx.log_metric("accuracy", acc - rng.uniform(0, 0.05))
            if i == 23:
                fitted = LogisticRegression(max_iter=5000).fit(x, y)
                fig, ax = plt.subplots(figsize=(4.5, 4))
                ConfusionMatrixDisplay.from_estimator(fitted, x, y, ax=ax, colorbar=False)
                mlflowx.log_figure(fig, "evaluation/confusion_matrix.png")
                plt.close(fig)
                mlflowx.log_dict({"solver": "lbfgs", "max_iter": 5000}, "config.json")
                mlflowx.log_text(x.head(20).to_csv(index=False), "data/sample.csv")
                info = mlflowx.sklearn.log_model(fitted, name="model", input_example=x.head(3))
                ids["run"] = run.info.run_id
                for _ in range(2):
                    version = mlflowx.register_model(f"models:/{info.model_id}", "wine-classifier")
    client = mlflowx.MlflowClient()
    client.set_registered_model_alias("wine-classifier", "champion", version.version)
    client.update_registered_model("wine-classifier", "Classifies wines by cultivar.")
    for key, value in {
        "mlflowx.prefect.flow_run_id": "2f6c4a8e-1c3b-4d2a-9e51-7a0b3c9d1e2f",
        "mlflowx.prefect.flow_run_name": "amber-heron",
        "mlflowx.prefect.flow_name": "train-pipeline",
        "mlflowx.deployment.name": "wine-classifier",
        "mlflowx.deployment.target": "docker",
        "mlflowx.deployment.url": "http://127.0.0.1:8080",
        "mlflowx.deployment.container_id": "5d1f0c3a9b7e",
        "mlflowx.deployment.image": "mlflowx-model-wine-classifier:2",
    }.items():
        client.set_model_version_tag("wine-classifier", version.version, key, value)
    mlflowx.set_tracking_uri(None)
    return ids


def main() -> int:
    from playwright.sync_api import sync_playwright

    port = 5099
    with tempfile.TemporaryDirectory(prefix="mlflowx-shots-") as tmp:
        proc = start(Path(tmp), port)
        url = f"http://127.0.0.1:{port}"
        try:
            ids = seed(url)
            runs = [r.info.run_id for r in __import__("mlflowx").MlflowClient(url).search_runs(
                [ids["experiment"]], "tags.mlflow.parentRunId IS NULL", max_results=3
            )]  # fmt: skip
            pages = {
                "ui-runs": f"#/experiments/{ids['experiment']}",
                "ui-run": f"#/experiments/{ids['experiment']}/runs/{ids['run']}?tab=metrics",
                "ui-artifacts": f"#/experiments/{ids['experiment']}/runs/{ids['run']}"
                "/artifacts/evaluation/confusion_matrix.png",
                "ui-compare": f"#/compare-runs?runs={','.join(runs)}",
                "ui-version": "#/models/wine-classifier/versions/2",
            }
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                for name, route in pages.items():
                    page.goto(f"{url}/{route}")
                    page.wait_for_selector('main[aria-busy="false"]')
                    if name == "ui-runs":
                        page.click('th[data-key="metrics.accuracy"]')
                        page.wait_for_selector('main[aria-busy="false"]')
                        page.locator("tr[data-run-id] .tree-toggle").first.click()
                    page.wait_for_timeout(800)  # charts draw when in view
                    page.screenshot(path=str(DOCS / f"{name}.png"))
                    print(f"docs/{name}.png")
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
