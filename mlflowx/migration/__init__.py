"""``mlflowx import``: copy an MLflow store (its database, its ``mlruns`` folder or a running
server) into mlflowx.

MLflow's formats are read directly (``mlflow`` is never imported): its SQL schema
(:mod:`.sql_source`), its file-store layout (:mod:`.file_source`) and its REST API through
mlflowx's own REST client (:mod:`.server_source`). :mod:`.copy` writes through mlflowx's
client, so any mlflowx store can be the destination.
"""

from __future__ import annotations

from mlflowx.migration.copy import Summary, import_store
from mlflowx.migration.sources import open_source

__all__ = ["Summary", "import_store", "open_source"]
