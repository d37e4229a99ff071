"""``make demo``: the whole pipeline on the embedded defaults, with a progress display.

Trains a classifier on scikit-learn's wine data, evaluates it against the current champion,
registers it, rolls the champion out (a local scoring-server process by default, a container
with ``--deploy docker``), asks the rollout for a prediction and says where everything went.
Everything lands under ``$MLFLOWX_HOME`` (``./demo-home`` from ``make demo``): the SQLite
tracking store, the artifacts and Prefect's own database (ephemeral server).
"""

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

STEPS = {
    "prefect": "Start Prefect (temporary server)",
    "train": "Train",
    "evaluate": "Evaluate against the champion",
    "register": "Register",
    "deploy": "Deploy the champion",
    "predict": "Ask the rollout for a prediction",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--deploy",
        choices=["process", "docker", "none"],
        default=os.environ.get("DEMO_DEPLOY") or "process",
        help="where to roll the champion out (default: a local scoring-server process)",
    )
    parser.add_argument(
        "--keep-serving",
        action="store_true",
        help="leave the scoring server running after the demo",
    )
    return parser.parse_args(argv)


class StateColumn(ProgressColumn):
    """A spinner while a step runs, a dot before it starts, nothing once it is done."""

    def __init__(self) -> None:
        super().__init__()
        self.spinner = SpinnerColumn(finished_text=" ")

    def render(self, task: Task) -> Text:
        if not task.started:
            return Text("·", style="dim")
        return self.spinner.render(task)  # type: ignore[return-value]


class StepDisplay:
    """A rich progress list: one line per pipeline step, updated from the task library."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.ids = {
            key: progress.add_task(label, total=1, start=False, detail="")
            for key, label in STEPS.items()
        }

    def __call__(self, step: str, status: str, detail: str = "") -> None:
        task_id = self.ids.get(step)
        if task_id is None:
            return
        if status == "started":
            self.progress.start_task(task_id)
            if step != "prefect":
                self.finish("prefect", "done", "")
        elif status in ("done", "failed"):
            self.finish(step, status, detail)

    def finish(self, step: str, status: str, detail: str) -> None:
        task_id = self.ids[step]
        if self.progress.tasks[task_id].finished:
            return
        self.progress.start_task(task_id)
        mark = "[green]✓[/]" if status == "done" else "[red]✗[/]"
        text = f"{mark} {STEPS[step]}" + (f" [dim]- {detail}[/]" if detail else "")
        self.progress.update(task_id, completed=1, description=text)


def predict_once(url: str, model_uri: str) -> tuple[list[Any], list[Any]]:
    """Two held-out rows sent to the rollout's /invocations: (predictions, true labels)."""
    from train_pipeline import TrainPipelineParams

    from mlflowx.orchestration.tasks.data import load_split

    split = load_split(TrainPipelineParams().dataset, classification=True)
    rows = split.x_test.head(2)
    body = {"dataframe_split": {"columns": list(rows.columns), "data": rows.values.tolist()}}
    response = httpx.post(f"{url}/invocations", json=body, timeout=60)
    response.raise_for_status()
    return response.json()["predictions"], split.y_test.head(2).tolist()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(soft_wrap=True)  # commands stay whole, for copying
    home = Path(os.environ.get("MLFLOWX_HOME") or "demo-home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["MLFLOWX_HOME"] = str(home)
    started = time.monotonic()
    console.print(f"[bold]mlflowx demo[/]: train -> evaluate -> register -> deploy ({args.deploy})")

    from train_pipeline import EXPERIMENT, train_pipeline

    import mlflowx
    from mlflowx.orchestration.tasks import DeploySpec, progress, stop_servers

    columns = (StateColumn(), TextColumn("{task.description}"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        display = StepDisplay(bar)
        progress.add_listener(display)
        bar.start_task(display.ids["prefect"])
        try:
            result = train_pipeline(
                deploy=DeploySpec(target=args.deploy, keep_running=True),
            )
        except Exception as exc:
            console.print(f"[red]The pipeline failed:[/] {exc}")
            stop_servers()
            return 1
        finally:
            progress.remove_listener(display)
        rollout = result.get("deployment")
        if rollout:
            display("predict", "started")
            predictions, truth = predict_once(rollout["url"], rollout["model_uri"])
            display("predict", "done", f"predicted {predictions} for true classes {truth}")
        else:
            display.finish("deploy", "done", "skipped (--deploy none)")
            display.finish("predict", "done", "skipped")

    uri = mlflowx.get_tracking_uri()
    name, version = result["model_uri"].removeprefix("models:/").split("/")
    console.print()
    console.print(f"[bold]What it made[/] (in {time.monotonic() - started:.0f} s):")
    console.print(f"  tracking store   {uri}")
    console.print(f"  experiment       {EXPERIMENT}  (training run {result['run_id']})")
    console.print(f"  model version    {name} v{version}  (alias champion: {result['champion']})")
    if rollout:
        where = rollout.get("container_id") or f"pid {rollout.get('pid')}"
        console.print(f"  rollout          {rollout['target']} at {rollout['url']} ({where})")
    console.print()
    console.print("[bold]Look at it[/]:")
    experiment = mlflowx.get_experiment_by_name(EXPERIMENT)
    console.print(f"  MLFLOWX_HOME={home} .venv/bin/mlflowx ui   # the web UI, then open:")
    if experiment is not None:
        base = "http://127.0.0.1:5000/#"
        console.print(f"    {base}/experiments/{experiment.experiment_id}/runs/{result['run_id']}")
    console.print(f"    http://127.0.0.1:5000/#/models/{name}/versions/{version}")
    console.print(
        f"  PREFECT_HOME={os.environ.get('PREFECT_HOME', '~/.prefect')} "
        ".venv/bin/prefect server start   # the flow runs, in the Prefect UI"
    )
    if experiment is not None:
        console.print(
            f"  MLFLOWX_HOME={home} .venv/bin/mlflowx runs list -x {experiment.experiment_id}"
        )
    console.print(f"  .venv/bin/mlflowx models serve -m models:/{name}@champion   # serve it again")
    if rollout and rollout["target"] == "docker":
        console.print(f"  .venv/bin/mlflowx deployments delete {rollout['name']}   # remove it")
    if rollout and rollout["target"] == "process" and not args.keep_serving:
        stop_servers()
        console.print("(the demo's scoring server was stopped; --keep-serving leaves it up)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
