"""A Dask task runner over local worker *processes* that also works with Prefect's ephemeral
(temporary) server.

Worker processes read Prefect's API URL from their environment. Against a configured server
(``PREFECT_API_URL``) they inherit it; in ephemeral mode there is none, and each worker would
start a temporary server of its own on the same SQLite database and time out. This runner passes
the URL of the temporary server the flow's process runs to its workers instead.
"""

from __future__ import annotations

import logging
from typing import Any

from prefect_dask.task_runners import DaskTaskRunner

__all__ = ["ProcessDaskTaskRunner"]


def _ephemeral_api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    return str(server.api_url) if server.running else None


class ProcessDaskTaskRunner(DaskTaskRunner):
    """``DaskTaskRunner`` on a ``LocalCluster`` of ``n_workers`` single-threaded processes."""

    def __init__(self, n_workers: int = 2, **kwargs: Any) -> None:
        cluster_kwargs: dict[str, Any] = {
            "n_workers": n_workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,  # no web dashboard (and no clash on port 8787)
            "silence_logs": logging.WARNING,
        }
        cluster_kwargs.update(kwargs.pop("cluster_kwargs", None) or {})
        super().__init__(cluster_kwargs=cluster_kwargs, **kwargs)

    def duplicate(self) -> ProcessDaskTaskRunner:
        return type(self)(
            cluster_kwargs=dict(self.cluster_kwargs),
            adapt_kwargs=self.adapt_kwargs,
            client_kwargs=self.client_kwargs,
        )

    def __enter__(self) -> ProcessDaskTaskRunner:
        url = _ephemeral_api_url()
        if url and self._cluster is None and self.address is None:
            env = dict(self.cluster_kwargs.get("env") or {})
            env.setdefault("PREFECT_API_URL", url)
            self.cluster_kwargs["env"] = env
        logging.getLogger("distributed").setLevel(logging.WARNING)
        super().__enter__()  # type: ignore[no-untyped-call]
        return self
