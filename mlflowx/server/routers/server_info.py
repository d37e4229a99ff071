"""MLflow's ``/api/3.0/mlflow/server-info``: what the server can do, asked by MLflow's client
before it chooses how to send and fetch large artifacts.

With ``multipart_*_enabled`` (the artifacts destination presigns URLs: S3), MLflow 3.17's
client sends files of ``MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE`` (500 MiB) or more in
presigned parts, and fetches files from presigned URLs in parallel ranges, both straight to and
from the store. Only what this server serves is advertised. As MLflow's, the answer needs no
login and holds nothing secret.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mlflowx.server.routers.artifacts import destination_repo

router = APIRouter(tags=["server-info"])
SERVER_INFO = "/api/3.0/mlflow/server-info"


@router.get(SERVER_INFO)
@router.get("/ajax-api/3.0/mlflow/server-info")
def server_info(request: Request) -> JSONResponse:
    presigns = False
    if request.app.state.artifacts_destination is not None:
        presigns = destination_repo(request).presigns
    payload: dict[str, Any] = {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": presigns,
        "multipart_downloads_enabled": presigns,
        # MLflow's presigned-upload-url API is not served: not advertised.
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }
    return JSONResponse(payload)
