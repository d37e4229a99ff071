"""Keep tracking in step with Prefect: end the runs of flow runs that died without ending them.

A tracked flow ends its run from Prefect's state hooks, which cannot run when the flow's process
is killed outside a worker. Prefect marks such a flow run Crashed once its heartbeats stop
(the server's zombie automation); this flow then ends its tracking runs to match. Deployed on a
schedule by ``deployments/prefect.yaml`` (``reconcile``); run it by hand with
``python flows/reconcile.py`` or ``mlflowx pipelines reconcile``.
"""

from prefect import flow, get_run_logger

from mlflowx.orchestration.reconcile import reconcile_runs


@flow(name="reconcile-tracking")
def reconcile(grace_seconds: float = 300, dry_run: bool = False) -> int:
    """End RUNNING tracking runs whose Prefect run is final; returns how many."""
    logger = get_run_logger()
    ended = reconcile_runs(grace_seconds=grace_seconds, dry_run=dry_run)
    for item in ended:
        logger.warning(
            "run %s (%s) %s %s: Prefect %s",
            item.run_id,
            item.run_name,
            "would end" if dry_run else "ended",
            item.status,
            item.state,
        )
    return len(ended)


if __name__ == "__main__":
    print(f"{reconcile()} run(s) ended")
