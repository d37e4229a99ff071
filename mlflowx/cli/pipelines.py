"""``mlflowx pipelines``: trigger and inspect the Prefect pipelines."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from mlflowx.cli._options import TrackingUri

app = typer.Typer(help="Trigger and inspect Prefect pipelines.", no_args_is_help=True)

#: Exit codes of ``trigger --wait``: the flow run failed/crashed/was cancelled, or timed out.
EXIT_RUN_FAILED = 1
EXIT_TIMEOUT = 3


@app.command("trigger")
def trigger(
    name: Annotated[str, typer.Argument(help="The deployment: flow-name/deployment-name.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="key=value (repeatable); key may be a.b.c, value is JSON or a plain string.",
        ),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Flow-run tag.")] = None,
    flow_run_name: Annotated[
        str | None, typer.Option("--flow-run-name", help="Name of the flow run.")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the run to finish.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait with --wait.")
    ] = 3600,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between state checks.")] = 2,
    output: Annotated[str, typer.Option("--output", "-o", help="text or json.")] = "text",
    tracking_uri: TrackingUri = None,
) -> None:
    """Run a deployed pipeline at PREFECT_API_URL with parameters.

    With --wait: report the tracking run and model version the flow run made, and exit 1 unless
    it completed (3 on timeout).
    """
    from rich.console import Console

    from mlflowx.orchestration.triggering import (
        find_outputs,
        trigger_deployment,
        wait_for_flow_run,
    )

    if output not in ("text", "json"):
        raise typer.BadParameter("--output must be text or json")
    console = Console(stderr=True)
    run = trigger_deployment(name, param or [], tags=tag or [], flow_run_name=flow_run_name)
    console.print(f"Flow run [bold]{run.flow_run_name}[/] ({run.flow_run_id}) of {name} created")
    if run.ui_url:
        console.print(f"  {run.ui_url}")
    if not wait:
        _emit(output, {"flow_run_id": run.flow_run_id, "state": run.state})
        return
    try:
        with console.status(f"Waiting for {run.flow_run_name}...") as status:
            run = wait_for_flow_run(
                run,
                timeout=timeout,
                poll=poll,
                on_state=lambda s: status.update(f"{run.flow_run_name}: {s}"),
            )
    except TimeoutError as exc:
        console.print(f"[red]{exc}[/]")
        sys.exit(EXIT_TIMEOUT)
    outputs = find_outputs(run.flow_run_id, tracking_uri)
    result: dict[str, Any] = {
        "flow_run_id": run.flow_run_id,
        "state": run.state,
        "message": run.state_message,
        "tracking_run_id": outputs.flow_tracking_run_id,
        "run_ids": outputs.run_ids,
        "model_versions": outputs.model_versions,
    }
    if output == "json":
        _emit(output, result)
    else:
        colour = "green" if run.state == "COMPLETED" else "red"
        console.print(f"Flow run {run.flow_run_id}: [{colour}]{run.state}[/]")
        if run.state != "COMPLETED" and run.state_message:
            console.print(run.state_message)
        typer.echo(f"flow_run_id={run.flow_run_id}")
        typer.echo(f"state={run.state}")
        typer.echo(f"tracking_run_id={outputs.flow_tracking_run_id or ''}")
        for version in outputs.model_versions:
            aliases = f" ({version['aliases']})" if version["aliases"] else ""
            typer.echo(f"model_version={version['name']}/{version['version']}{aliases}")
    if run.state != "COMPLETED":
        sys.exit(EXIT_RUN_FAILED)


def _emit(output: str, payload: dict[str, Any]) -> None:
    if output == "json":
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        for key, value in payload.items():
            typer.echo(f"{key}={value}")


@app.command("list")
def list_deployments() -> None:
    """List the deployments at PREFECT_API_URL (flow-name/deployment-name, pool, schedules)."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        deployments = client.read_deployments()
        flows = {f.id: f.name for f in client.read_flows()}
    for d in sorted(deployments, key=lambda d: (flows.get(d.flow_id, ""), d.name)):
        crons = ", ".join(
            str(getattr(s.schedule, "cron", None) or getattr(s.schedule, "interval", ""))
            for s in d.schedules
        )
        typer.echo(
            f"{flows.get(d.flow_id, '?')}/{d.name}\tpool={d.work_pool_name or '-'}"
            f"\tschedules={crons or '-'}"
        )


@app.command("reconcile")
def reconcile(
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", "-e", help="Experiment name (repeatable; default: all)."),
    ] = None,
    grace: Annotated[
        float,
        typer.Option("--grace", help="Leave runs whose Prefect run ended less than this ago (s)."),
    ] = 60,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would be ended.")
    ] = False,
    output: Annotated[str, typer.Option("--output", "-o", help="text or json.")] = "text",
    tracking_uri: TrackingUri = None,
) -> None:
    """End RUNNING tracking runs whose Prefect flow or task run ended without ending them
    (a flow process that died outside a worker), as the flow's hooks would have."""
    from mlflowx.cli._options import client
    from mlflowx.exceptions import NotFound
    from mlflowx.orchestration.reconcile import reconcile_runs

    if output not in ("text", "json"):
        raise typer.BadParameter("--output must be text or json")
    ids: list[str] | None = None
    if experiment:
        tracking = client(tracking_uri)
        ids = []
        for name in experiment:
            found = tracking.get_experiment_by_name(name)
            if found is None:
                raise NotFound(f"--experiment {name!r}: no experiment has that name")
            ids.append(found.experiment_id)
    done = reconcile_runs(tracking_uri, ids, grace_seconds=grace, dry_run=dry_run)
    if output == "json":
        typer.echo(json.dumps([r.as_dict() for r in done], indent=2))
        return
    verb = "would end" if dry_run else "ended"
    for r in done:
        kind = f"task run {r.task_run_id}" if r.task_run_id else f"flow run {r.flow_run_id}"
        typer.echo(f"{r.run_id}\t{r.run_name}\t{verb} {r.status}\t(Prefect {kind}: {r.state})")
    typer.echo(f"{len(done)} run(s) {verb}", err=True)
