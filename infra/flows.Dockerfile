# The flow image: mlflowx with its orchestration and serving extras, and the flows, on the local
# Python base image. Built offline from a wheelhouse by infra/build-flow-image.sh (no registry,
# no BuildKit needed); Prefect's Docker worker runs `prefect flow-run execute` in /opt/mlflowx.
ARG BASE_IMAGE=mlflowx-base:py311
FROM ${BASE_IMAGE} AS build
COPY wheelhouse /wheelhouse
COPY constraints.txt /constraints.txt
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheelhouse \
      -c /constraints.txt "mlflowx[orchestration,serving]"

FROM ${BASE_IMAGE}
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PREFECT_HOME=/tmp/prefect \
    MLFLOWX_HOME=/tmp/mlflowx \
    DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /opt/mlflowx
COPY flows /opt/mlflowx/flows
