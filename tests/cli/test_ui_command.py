"""``mlflowx ui``: the server with the web UI on the embedded defaults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fixtures.server import free_port

BIN = Path(sys.executable).parent


def test_ui_serves_the_app_on_the_embedded_defaults(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MLFLOWX_HOME": str(tmp_path)}
    for name in ("MLFLOWX_BACKEND_STORE_URI", "MLFLOWX_ARTIFACTS_DESTINATION"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [str(BIN / "mlflowx"), "ui", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "mlflowx ui did not start in 30 s"
            time.sleep(0.1)
        page = httpx.get(url + "/")
        assert page.headers["content-type"].startswith("text/html")
        assert '<main id="app"' in page.text
        created = httpx.post(f"{url}/api/2.0/mlflow/experiments/create", json={"name": "ui-cli"})
        assert created.status_code == 200, created.text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=20)[0].decode()
    # The embedded defaults: the SQLite file and proxied artifacts under MLFLOWX_HOME.
    assert (tmp_path / "mlflowx.db").is_file()
    assert f"Web UI: {url}/" in output
