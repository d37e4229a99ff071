"""The deployment's stable front: nginx (Debian's package) in a locally built image.

The image is built once per (mlflowx version, proxy files) on top of the base image; apt runs
inside a legacy build on the default bridge network. The upstream (the model container serving
now) lives in ``/etc/mlflowx-proxy/upstream.conf`` inside the proxy container; a rollout rewrites
it and runs ``nginx -s reload``, which starts new workers on the new upstream while the old
workers finish their in-flight requests.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import mlflowx
from mlflowx.docker import Progress, ensure_base_image, resolve_base_image, run_build
from mlflowx.docker.client import progress_or_noop
from mlflowx.exceptions import ImageBuildError, InvalidState

__all__ = ["PROXY_PORT", "ensure_proxy_image", "read_upstream", "switch_upstream", "upstream_conf"]

PROXY_PORT = 8080
CONF_DIR = "/etc/mlflowx-proxy"
UPSTREAM_FILE = f"{CONF_DIR}/upstream.conf"
HEALTH_PATH = "/__mlflowx/proxy-health"

_NGINX_CONF = f"""\
# mlflowx deployment proxy. The upstream is rewritten on each rollout (then `nginx -s reload`).
worker_processes 1;
pid /run/mlflowx-proxy.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    # No keep-alive towards clients: a reload closes the idle keep-alive connections of the old
    # workers, racing with a client's next request on them. With one connection per request,
    # connections wait in the listening socket (shared by old and new workers) and none is lost.
    keepalive_timeout 0;
    client_max_body_size 0;  # the scoring server enforces its own limit (413)
    include {UPSTREAM_FILE};
    server {{
        listen {PROXY_PORT};
        location = {HEALTH_PATH} {{
            default_type text/plain;
            return 200 "ok\\n";
        }}
        location / {{
            proxy_pass http://mlflowx_model;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 300s;
            proxy_send_timeout 300s;
            # Predictions are idempotent: a request that met a closed keep-alive connection
            # to the model is retried on a fresh one.
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""

_ENTRYPOINT = f"""\
#!/bin/sh
# Keep the upstream of the last rollout across restarts; the env only seeds a new container.
set -e
if [ ! -s {UPSTREAM_FILE} ]; then
    printf '%s\\n' "$MLFLOWX_UPSTREAM_CONF" > {UPSTREAM_FILE}
fi
exec nginx -c {CONF_DIR}/nginx.conf -g 'daemon off;'
"""

_HEALTH = (
    "import urllib.request; "
    f"urllib.request.urlopen('http://127.0.0.1:{PROXY_PORT}{HEALTH_PATH}', timeout=2)"
)

_DOCKERFILE = f"""\
# mlflowx deployment proxy: nginx from the base image's Debian packages.
FROM {{base}}
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \\
      /etc/nginx/sites-enabled/* /usr/share/doc/* /usr/share/man/*
COPY nginx.conf {CONF_DIR}/nginx.conf
COPY entrypoint.sh /usr/local/bin/mlflowx-proxy
RUN chmod 0755 /usr/local/bin/mlflowx-proxy && nginx -v
EXPOSE {PROXY_PORT}
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=2s --timeout=3s --retries=3 CMD {json.dumps(["python3", "-c", _HEALTH])}
CMD ["/usr/local/bin/mlflowx-proxy"]
"""


def _files_digest() -> str:
    return hashlib.sha256((_NGINX_CONF + _ENTRYPOINT + _DOCKERFILE).encode()).hexdigest()[:8]


def proxy_image_name() -> str:
    return f"mlflowx-proxy:{mlflowx.__version__}-{_files_digest()}"


def ensure_proxy_image(
    client: Any, base_image: str | None = None, progress: Progress | None = None
) -> str:
    """The proxy image's tag, built on ``base_image`` first when it is not there yet."""
    import docker.errors

    name = proxy_image_name()
    try:
        client.images.get(name)
        return name
    except docker.errors.ImageNotFound:
        pass
    base = resolve_base_image(base_image)
    ensure_base_image(client, base, progress)
    progress_or_noop(progress)(f"Building the proxy image {name} (nginx from Debian packages)")
    with tempfile.TemporaryDirectory(prefix="mlflowx-proxy-") as tmp:
        ctx = Path(tmp)
        (ctx / "Dockerfile").write_text(_DOCKERFILE.format(base=base))
        (ctx / "nginx.conf").write_text(_NGINX_CONF)
        (ctx / "entrypoint.sh").write_text(_ENTRYPOINT)
        try:
            run_build(
                client, ctx, name, network=True, progress=progress, what="proxy image",
                labels={"io.mlflowx.role": "proxy-image", "io.mlflowx.base-image": base},
            )  # fmt: skip
        except ImageBuildError as exc:
            raise ImageBuildError(
                f"{exc.message}\nThe proxy image installs nginx with apt inside the build, which "
                "needs the Debian mirror to be reachable from builds on the default bridge."
            ) from exc
    return name


def upstream_conf(container_id: str, container_name: str, port: int) -> str:
    """nginx's upstream block for one model container (resolved by name on the deployment
    network). The idle keep-alive timeout stays below uvicorn's 5 s so nginx never reuses a
    connection the model server is closing."""
    return (
        f"# model-container: {container_id}\n"
        "upstream mlflowx_model {\n"
        f"    server {container_name}:{port} max_fails=0;\n"
        "    keepalive 32;\n"
        "    keepalive_timeout 4s;\n"
        "}\n"
    )


def read_upstream(proxy: Any) -> str | None:
    """The model container id the proxy points at (read from its upstream file), if any."""
    try:
        stream, _ = proxy.get_archive(UPSTREAM_FILE)
        data = b"".join(stream)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            member = archive.extractfile(archive.getmembers()[0])
            text = member.read().decode() if member else ""
    except Exception:
        return None
    for line in text.splitlines():
        if line.startswith("# model-container:"):
            return line.split(":", 1)[1].strip()
    return None


_WORKERS = (
    "for p in /proc/[0-9]*; do c=$(tr '\\0' ' ' < $p/cmdline 2>/dev/null) || continue; "
    'case "$c" in "nginx: worker process"*) echo "${p#/proc/} $c";; esac; done'
)


def _workers(proxy: Any) -> tuple[set[str], set[str]]:
    """(serving worker pids, shutting-down worker pids) of the proxy's nginx."""
    _, out = proxy.exec_run(["sh", "-c", _WORKERS])
    serving: set[str] = set()
    draining: set[str] = set()
    for line in (out or b"").decode(errors="replace").splitlines():
        pid, _, title = line.partition(" ")
        (draining if "shutting down" in title else serving).add(pid)
    return serving, draining


def switch_upstream(proxy: Any, conf: str, *, drain_timeout: float = 60.0) -> None:
    """Point the proxy at a new upstream: write it, check the config, reload nginx gracefully,
    then wait until the old workers have finished their in-flight requests and exited."""
    before, _ = _workers(proxy)
    script = (
        f"cp {UPSTREAM_FILE} {UPSTREAM_FILE}.prev && "
        f'printf "%s\\n" "$MLFLOWX_UPSTREAM_CONF" > {UPSTREAM_FILE}.new && '
        f"mv -f {UPSTREAM_FILE}.new {UPSTREAM_FILE} && "
        f"if nginx -q -t -c {CONF_DIR}/nginx.conf; then nginx -s reload -c {CONF_DIR}/nginx.conf; "
        f"else cp {UPSTREAM_FILE}.prev {UPSTREAM_FILE}; exit 3; fi"
    )
    code, out = proxy.exec_run(["sh", "-c", script], environment={"MLFLOWX_UPSTREAM_CONF": conf})
    if code != 0:
        raise InvalidState(
            f"The proxy {proxy.name} refused the new upstream (exit {code}): "
            f"{(out or b'').decode(errors='replace').strip()}"
        )
    deadline = time.monotonic() + drain_timeout
    while time.monotonic() < deadline:
        serving, draining = _workers(proxy)
        if serving and not (serving & before) and not draining:
            return
        time.sleep(0.2)
    raise InvalidState(
        f"The proxy {proxy.name} did not finish reloading within {drain_timeout:.0f} s "
        "(old nginx workers still running)"
    )
