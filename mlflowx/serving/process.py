"""A scoring server in a subprocess: ``mlflowx models serve`` started, awaited and stopped.

>>> with start_scoring_server("models:/iris@champion") as server:  # doctest: +SKIP
...     server.predict({"dataframe_records": [{"x": 1.0}]})
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from mlflowx.exceptions import InvalidState, MlflowxError
from mlflowx.utils.net import free_port

__all__ = ["ScoringProcess", "start_scoring_server"]


def _command() -> list[str]:
    script = Path(sys.executable).parent / "mlflowx"
    if script.is_file():
        return [str(script)]
    found = shutil.which("mlflowx")
    if found:
        return [found]
    return [sys.executable, "-c", "from mlflowx.cli import main; main()"]


class ScoringProcess:
    """A running ``mlflowx models serve``: its ``url``, ``pid`` and ``port``.

    ``predict`` sends a scoring request; ``stop`` (or leaving the ``with`` block) ends the
    server and its workers.
    """

    def __init__(
        self, proc: subprocess.Popen[bytes], host: str, port: int, model_uri: str, log: Path
    ) -> None:
        self.proc = proc
        self.host = host
        self.port = port
        self.model_uri = model_uri
        self.log_path = log
        url_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{url_host}:{port}"
        self._http = httpx.Client(base_url=self.url, timeout=60)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def logs(self) -> str:
        """What the server has printed so far (stdout and stderr)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def is_running(self) -> bool:
        return self.proc.poll() is None

    def health(self) -> httpx.Response:
        return self._http.get("/health", timeout=5)

    def predict(
        self,
        payload: Any,
        *,
        params: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> Any:
        """Score ``payload`` and return the predictions.

        ``payload`` is a pandas DataFrame (sent as ``dataframe_split``), a dict in MLflow's
        request format (``{"dataframe_records": [...]}``, ``{"inputs": ...}``, ...), or a
        str/bytes body sent with ``content_type`` (default JSON). Errors from the server
        raise the matching :class:`~mlflowx.exceptions.MlflowxError`.
        """
        headers = {"Content-Type": content_type or "application/json"}
        if isinstance(payload, bytes | str):
            body = payload.encode() if isinstance(payload, str) else payload
        else:
            from mlflowx.serving.scoring.output import to_json_bytes

            if hasattr(payload, "to_dict") and hasattr(payload, "columns"):  # a DataFrame
                # Not DataFrame.to_json: it rounds floats to 10 digits.
                split = payload.to_dict(orient="split")
                payload = {"dataframe_split": {"columns": split["columns"], "data": split["data"]}}
            if params is not None:
                payload = {**payload, "params": params}
            body = to_json_bytes(payload)
        response = self._http.post("/invocations", content=body, headers=headers)
        try:
            result = response.json()
        except ValueError:
            result = None
        if response.is_error:
            if isinstance(result, dict) and "error_code" in result:
                raise MlflowxError.from_payload(result, response.status_code)
            raise InvalidState(
                f"The scoring server answered {response.status_code}: {response.text[:500]}"
            )
        if isinstance(result, dict) and "predictions" in result:
            return result["predictions"]
        return result

    def stop(self, timeout: float = 20) -> int:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` s); its exit code."""
        self._http.close()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        return int(self.proc.returncode)

    def __enter__(self) -> ScoringProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ScoringProcess(url={self.url!r}, pid={self.pid}, model_uri={self.model_uri!r})"

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise InvalidState(
                    f"The scoring server for {self.model_uri} exited with code "
                    f"{self.proc.returncode} before it was healthy:\n{self.logs()[-4000:]}"
                )
            try:
                response = self.health()
                if response.status_code == 200:
                    return
                body = response.json() if response.content.startswith(b"{") else {}
                if body.get("status") == "failed":
                    raise InvalidState(
                        f"The scoring server could not load {self.model_uri}: {body.get('error')}"
                    )
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise InvalidState(
                    f"The scoring server for {self.model_uri} was not healthy after {timeout:g}s"
                    f":\n{self.logs()[-4000:]}"
                )
            time.sleep(0.1)


def start_scoring_server(
    model_uri: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    allow_pickle: bool = False,
    allow_code: bool = False,
) -> ScoringProcess:
    """Start ``mlflowx models serve`` for ``model_uri`` and wait until ``/health`` says 200.

    Args:
        model_uri: any URI ``mlflowx.pyfunc.load_model`` reads (path, ``runs:/``,
            ``models:/name/version``, ``models:/name@alias``, ``models:/m-<id>``).
        port: ``None`` or 0 picks a free port.
        env: extra environment variables for the server (e.g. ``MLFLOWX_TRACKING_URI``).
        timeout: seconds to wait for the model to load.
        allow_pickle: pass ``--allow-pickle`` (load the model's pickle files).
        allow_code: pass ``--allow-code`` (run the model's own Python). Without them the
            server's environment decides (``MLFLOWX_ALLOW_*``), and refuses by default.

    Raises:
        InvalidState: the server exited, failed to load the model (the message says why), or
            was not healthy within ``timeout``; it is stopped first.
    """
    port = port or free_port(host)
    log_dir = Path(tempfile.mkdtemp(prefix="mlflowx-serve-"))
    log = log_dir / "server.log"
    cmd = [
        *_command(), "models", "serve", "-m", str(model_uri), "--host", host,
        "--port", str(port), "--workers", str(workers),
        *(["--allow-pickle"] if allow_pickle else []), *(["--allow-code"] if allow_code else []),
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    server = ScoringProcess(proc, host, port, str(model_uri), log)
    try:
        server._wait_healthy(timeout)
    except BaseException:
        server.stop()
        raise
    return server
