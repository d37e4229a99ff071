"""One pooled HTTP client per server, with MLflow-compatible auth, timeouts and retries."""

from __future__ import annotations

import atexit
import random
import threading
import time
from typing import Any

import httpx

from mlflowx import settings
from mlflowx.exceptions import MlflowxError, TemporarilyUnavailable

__all__ = ["HttpSession", "session_for"]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


#: Retry jitter from a generator of its own: a retrying thread never moves the process's
#: global ``random`` state (which users and property-based tests seed and replay).
_JITTER = random.Random()


class HttpSession:
    """Calls to one tracking server: auth from the environment, retries with backoff.

    Idempotent calls are retried on connection errors and on 408/429/5xx; others only on
    errors that prove the request never reached the server (connect failures).
    """

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        timeout = float(settings.env("MLFLOWX_HTTP_REQUEST_TIMEOUT") or 120)
        self.max_retries = int(settings.env("MLFLOWX_HTTP_REQUEST_MAX_RETRIES") or 5)
        self.backoff = float(settings.env("MLFLOWX_HTTP_REQUEST_BACKOFF_FACTOR") or 0.5)
        auth: httpx.Auth | None = None
        headers = {"User-Agent": "mlflowx"}
        token = settings.env("MLFLOWX_TRACKING_TOKEN")
        user = settings.env("MLFLOWX_TRACKING_USERNAME")
        password = settings.env("MLFLOWX_TRACKING_PASSWORD")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif user is not None and password is not None:
            auth = httpx.BasicAuth(user, password)
        insecure = settings.env("MLFLOWX_TRACKING_INSECURE_TLS") or ""
        verify: Any = insecure.lower() not in ("1", "true")
        ca = settings.env("MLFLOWX_TRACKING_SERVER_CERT_PATH")
        if ca:
            verify = ca
        self.client = client or httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers=headers,
            auth=auth,
            verify=verify,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request, retrying as the call allows; raise typed errors for 4xx/5xx.

        A file given as ``content`` is sent from where it stands at the first attempt, again
        from there on every retry (a retry must not send the rest of a half-sent file).
        """
        body: Any = kwargs.get("content")
        start: int | None = body.tell() if hasattr(body, "seek") and hasattr(body, "tell") else None
        attempt = 0
        while True:
            if start is not None and attempt:
                body.seek(start)
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.ConnectError as exc:
                error: Exception = exc
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if not idempotent:
                    raise TemporarilyUnavailable(
                        f"{method} {self.base_url}{path} failed: {exc!r}; not retried because "
                        "the call is not idempotent"
                    ) from exc
                error = exc
            else:
                if response.status_code not in RETRY_STATUSES or not idempotent:
                    return _checked(response)
                error = _as_error(response)
            attempt += 1
            if attempt > self.max_retries:
                if isinstance(error, MlflowxError):
                    raise error
                raise TemporarilyUnavailable(
                    f"{method} {self.base_url}{path} failed after {self.max_retries} retries: "
                    f"{error!r}"
                ) from error
            time.sleep(self.retry_delay(attempt))

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1, 2, ...): exponential backoff
        with jitter, capped at 30 s."""
        return float(min(30.0, self.backoff * 2 ** (attempt - 1)) * (0.5 + _JITTER.random()))

    def close(self) -> None:
        self.client.close()


def _as_error(response: httpx.Response) -> MlflowxError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "error_code" in payload:
        return MlflowxError.from_payload(payload)
    text = response.text[:500]
    if response.status_code == 404:
        from mlflowx.exceptions import EndpointNotFound

        return EndpointNotFound(f"{response.request.method} {response.request.url}: {text}")
    error = MlflowxError.from_payload(
        {
            "error_code": "",
            "message": f"HTTP {response.status_code} from {response.request.url}: {text}",
        }
    )
    return error


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise _as_error(response)
    return response


_sessions: dict[str, HttpSession] = {}
_lock = threading.Lock()


def session_for(base_url: str) -> HttpSession:
    """The process-wide session for a server (one connection pool per server)."""
    key = base_url.rstrip("/")
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = HttpSession(key)
        return session


@atexit.register
def _close_sessions() -> None:
    # Pooled keep-alive sockets would otherwise be reclaimed by the garbage collector at exit,
    # each with a ResourceWarning ("unclosed <socket.socket ...>").
    with _lock:
        sessions = list(_sessions.values())
        _sessions.clear()
    for session in sessions:
        session.close()
