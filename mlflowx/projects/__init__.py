"""MLproject files compiled into Prefect flows.

``load(uri)`` reads a project (a folder or a git repository); ``Project.to_flow(entry)`` compiles an
entry point into a Prefect flow with typed parameters; ``run(...)`` runs it in this process or on a
Prefect work pool and returns a :class:`SubmittedRun`; ``deploy(...)`` registers a (scheduled)
deployment.
"""

from mlflowx.projects.backends import (
    LocalSubmittedRun,
    PrefectSubmittedRun,
    SubmittedRun,
    deploy,
    run,
)
from mlflowx.projects.execution import ProjectRunFailed, RunConfig
from mlflowx.projects.project import Project, load
from mlflowx.projects.spec import MLprojectError

__all__ = [
    "LocalSubmittedRun",
    "MLprojectError",
    "PrefectSubmittedRun",
    "Project",
    "ProjectRunFailed",
    "RunConfig",
    "SubmittedRun",
    "deploy",
    "load",
    "run",
]
