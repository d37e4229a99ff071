"""The flow image Prefect's Docker work pool runs ``flows/`` in (``deployments/prefect.yaml``).

mlflowx with its ``orchestration`` and ``serving`` extras, pinned to the versions installed
here (so the image runs what the tests ran), and the source tree's ``flows/`` in
``/opt/mlflowx``, where Prefect's Docker worker runs ``prefect flow-run execute``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from mlflowx.docker.build import build_image
from mlflowx.docker.client import Progress, resolve_base_image
from mlflowx.docker.spec import Copy, ImageSpec
from mlflowx.docker.wheels import source_tree
from mlflowx.exceptions import ImageBuildError

__all__ = ["build_flow_image", "flow_spec", "host_constraints"]

FLOWS_DIR = "/opt/mlflowx"


def host_constraints() -> list[str]:
    """``pip freeze`` of this interpreter without mlflowx, editable installs or direct URLs
    (pip refuses links as constraints)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise ImageBuildError(f"`pip freeze` failed: {done.stderr.strip()[-2000:]}")
    return [
        line
        for line in done.stdout.splitlines()
        if line
        and not line.startswith(("-e ", "#"))
        and not line.lower().startswith("mlflowx")
        and " @ " not in line
    ]


def flow_spec(base: str, constraints: list[str]) -> ImageSpec:
    """What the flow image holds."""
    return ImageSpec(
        base=base,
        mlflowx_extras=("orchestration", "serving"),
        constraints=tuple(constraints),
        copies=(Copy("flows", source_tree() / "flows", f"{FLOWS_DIR}/flows"),),
        env={
            "PREFECT_HOME": "/tmp/prefect",
            "MLFLOWX_HOME": "/tmp/mlflowx",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        workdir=FLOWS_DIR,
    )


def build_flow_image(
    tag: str | None = None,
    *,
    base_image: str | None = None,
    force: bool = False,
    client: Any = None,
    progress: Progress | None = None,
) -> str:
    """Build the flow image (``mlflowx-flows:<content digest>`` unless ``tag`` is given; a
    present one is reused unless ``force``) and return its tag."""
    spec = flow_spec(resolve_base_image(base_image), host_constraints())
    return build_image(
        spec, repository="mlflowx-flows", tag=tag, reuse=not force, client=client,
        progress=progress, what="flow image",
    )  # fmt: skip
