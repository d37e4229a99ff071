"""Model images and serving containers on Docker (the docker SDK, legacy builder).

- :func:`generate_dockerfile` / :func:`build_model_image`: a scoring image (built by
  :mod:`mlflowx.docker`) holding the model, its requirements and mlflowx[serving], running
  ``mlflowx models serve`` as a non-root user with a HEALTHCHECK.
- :class:`DockerDeployments`: a deployment is an nginx reverse proxy on the deployment's own
  network, publishing a port on 127.0.0.1, with model containers behind it; ``update`` rolls out
  a new model with no downtime.
"""

from mlflowx.docker import DEFAULT_BASE_IMAGE, ensure_base_image, resolve_base_image
from mlflowx.exceptions import DockerUnavailable, ImageBuildError
from mlflowx.serving.docker.deployments import (
    DeploymentError,
    DockerDeployments,
    ModelDeployment,
)
from mlflowx.serving.docker.image import (
    BuiltImage,
    build_model_image,
    generate_dockerfile,
    prune_runtime_images,
)

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "BuiltImage",
    "DeploymentError",
    "DockerDeployments",
    "DockerUnavailable",
    "ImageBuildError",
    "ModelDeployment",
    "build_model_image",
    "ensure_base_image",
    "generate_dockerfile",
    "prune_runtime_images",
    "resolve_base_image",
]
