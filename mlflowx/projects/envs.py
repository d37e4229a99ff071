"""Where a project's command runs: this interpreter, a cached virtualenv, conda, or a container.

Each environment runs ``bash -c <command>`` with the given variables in its environment (the
command refers to its parameter values there: see :mod:`mlflowx.projects.command`), streams the
combined output line by line to a callback, and returns the exit code.

Virtualenvs are built from ``python_env.yaml`` once, in ``$MLFLOWX_HOME/envs/<hash of the spec>``,
with the standard library's ``venv`` and pip. MLflow installs ``mlflow`` into its environments; we
install mlflowx's core requirements with pip and link the running mlflowx package into the env with
a ``.pth`` file (no copy, no build), so project code can ``import mlflowx`` and log to the run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflowx import settings
from mlflowx.exceptions import InvalidParameter, InvalidState
from mlflowx.projects.spec import DockerEnv, PythonEnvSpec

__all__ = [
    "CONTAINER_WORKDIR",
    "CondaEnvironment",
    "DockerEnvironment",
    "Environment",
    "LocalEnvironment",
    "RunHandle",
    "VirtualEnvironment",
    "envs_dir",
    "mlflowx_requirements",
]

LineSink = Callable[[str], None]
#: Where the project is mounted in a container (MLflow's path).
CONTAINER_WORKDIR = "/mlflow/projects/code"


class RunHandle:
    """Lets another thread cancel the running command."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kill: Callable[[], None] | None = None
        self.cancelled = False

    def attach(self, kill: Callable[[], None]) -> None:
        with self._lock:
            self._kill = kill
            cancelled = self.cancelled
        if cancelled:
            kill()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            kill = self._kill
        if kill is not None:
            kill()


class Environment(ABC):
    name: str

    def prepare(self, log: LineSink) -> None:  # noqa: B027 (optional hook)
        """Build whatever the environment needs (cached); called before :meth:`run`."""

    @abstractmethod
    def run(
        self, command: str, cwd: Path, env: Mapping[str, str], sink: LineSink, handle: RunHandle
    ) -> int: ...


def _stream_process(
    argv: list[str], cwd: Path, env: Mapping[str, str], sink: LineSink, handle: RunHandle
) -> int:
    with subprocess.Popen(
        argv, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    ) as proc:  # fmt: skip

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)

        handle.attach(kill)
        assert proc.stdout is not None
        for raw in proc.stdout:
            sink(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        return proc.wait()


class LocalEnvironment(Environment):
    """The running interpreter: its ``bin`` directory goes first on ``PATH``."""

    name = "local"

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or Path(sys.executable).parent

    def run(
        self, command: str, cwd: Path, env: Mapping[str, str], sink: LineSink, handle: RunHandle
    ) -> int:
        full = {**os.environ, **env}
        full["PATH"] = f"{self.bin_dir}{os.pathsep}{full.get('PATH', '')}"
        full.pop("PYTHONHOME", None)
        return _stream_process(["bash", "-c", command], cwd, full, sink, handle)


def envs_dir() -> Path:
    """``$MLFLOWX_ENVS_DIR``, else ``$MLFLOWX_HOME/envs``, else ``~/.mlflowx/envs``."""
    explicit = os.environ.get("MLFLOWX_ENVS_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    if os.environ.get("MLFLOWX_HOME"):
        return settings.home() / "envs"
    return Path.home() / ".mlflowx" / "envs"


def mlflowx_requirements() -> list[str]:
    """mlflowx's core requirements (no extras), for installing into project environments."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        reqs = requires("mlflowx") or []
    except PackageNotFoundError:
        return []
    return [r for r in reqs if "extra ==" not in r.replace('"', "").replace("'", "")]


def _mlflowx_package_dir() -> Path:
    import mlflowx

    return Path(mlflowx.__file__).resolve().parent


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _python_for(version: str) -> Path:
    """An interpreter on this machine whose major.minor matches ``version``."""
    wanted = ".".join(version.split(".")[:2])
    if not re.fullmatch(r"\d+\.\d+", wanted):
        raise InvalidParameter(f"python_env.yaml: invalid python version {version!r}")
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    if current == wanted:
        return Path(sys.executable)
    for name in (f"python{wanted}",):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise InvalidParameter(
        f"python_env.yaml asks for Python {version}, but no python{wanted} interpreter is "
        f"installed here (this one is {sys.version.split()[0]}); install it or change the spec"
    )


class VirtualEnvironment(Environment):
    """A venv built from ``python_env.yaml``, cached by a hash of its spec."""

    name = "virtualenv"

    def __init__(self, spec: PythonEnvSpec, project_dir: Path) -> None:
        self.spec = spec
        self.project_dir = project_dir
        self.reused: bool | None = None  # set by prepare(): True on a cache hit

    def _requirement_files(self) -> list[str]:
        texts = []
        for dep in self.spec.dependencies:
            parts = dep.split(maxsplit=1)
            if parts and parts[0] in ("-r", "--requirement") and len(parts) == 2:
                file = self.project_dir / parts[1]
                texts.append(file.read_text() if file.is_file() else "")
        return texts

    @property
    def key(self) -> str:
        payload = {
            "spec": self.spec.model_dump(),
            "files": self._requirement_files(),
            "mlflowx": mlflowx_requirements(),
            "mlflowx_dir": str(_mlflowx_package_dir()),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def path(self) -> Path:
        return envs_dir() / f"venv-{self.key}"

    def prepare(self, log: LineSink) -> None:
        env_dir = self.path
        marker = env_dir / ".mlflowx-ready"
        with _file_lock(env_dir.with_suffix(".lock")):
            if marker.exists():
                self.reused = True
                log(f"Reusing virtualenv {env_dir}")
                return
            self.reused = False
            shutil.rmtree(env_dir, ignore_errors=True)
            python = _python_for(self.spec.python)
            log(f"Creating virtualenv {env_dir} (Python {self.spec.python})")
            target = str(env_dir / "bin" / "python")
            if python == Path(sys.executable) and importlib.util.find_spec("pip") is not None:
                # This interpreter's pip installs into the env (`pip --python`): skipping
                # ensurepip saves ~25 s per env; build_dependencies (usually pip) still go in.
                _checked(
                    [str(python), "-m", "venv", "--without-pip", str(env_dir)],
                    self.project_dir,
                    log,
                )
                pip = [sys.executable, "-m", "pip", "--python", target, "install", "--quiet"]
            else:
                _checked([str(python), "-m", "venv", str(env_dir)], self.project_dir, log)
                pip = [target, "-m", "pip", "install", "--quiet"]
            if self.spec.build_dependencies:
                _checked([*pip, *self.spec.build_dependencies], self.project_dir, log)
            reqs = env_dir / "requirements.txt"
            reqs.write_text("\n".join([*self.spec.dependencies, *mlflowx_requirements()]) + "\n")
            # -r lines in the spec are relative to the project, as in MLflow.
            _checked([*pip, "-r", str(reqs)], self.project_dir, log)
            _link_mlflowx(env_dir)
            marker.write_text(json.dumps(self.spec.model_dump()))

    def run(
        self, command: str, cwd: Path, env: Mapping[str, str], sink: LineSink, handle: RunHandle
    ) -> int:
        full = {**env, "VIRTUAL_ENV": str(self.path)}
        return LocalEnvironment(self.path / "bin").run(command, cwd, full, sink, handle)


def _link_mlflowx(env_dir: Path) -> None:
    """Make the running mlflowx importable in the env: a ``.pth`` to a folder linking to it."""
    link_root = env_dir / "mlflowx-link"
    link_root.mkdir(exist_ok=True)
    link = link_root / "mlflowx"
    if not link.exists():
        link.symlink_to(_mlflowx_package_dir(), target_is_directory=True)
    site = next((env_dir / "lib").glob("python*/site-packages"))
    (site / "mlflowx-link.pth").write_text(f"{link_root}\n")


def _checked(argv: list[str], cwd: Path, log: LineSink) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    for line in (done.stdout + done.stderr).splitlines():
        log(line)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise InvalidState(f"{' '.join(argv[:4])} ... failed ({done.returncode}):\n{tail}")


class CondaEnvironment(Environment):
    """``conda env create`` from the project's conda file, cached by its hash."""

    name = "conda"

    def __init__(self, conda_file: Path) -> None:
        self.conda_file = conda_file
        conda = settings.env("MLFLOWX_CONDA_HOME")
        exe = Path(conda, "bin", "conda") if conda else None
        found = str(exe) if exe and exe.exists() else shutil.which("conda")
        if not found:
            raise InvalidParameter(
                "--env-manager conda needs conda, which is not installed here (no `conda` on "
                "PATH, no MLFLOWX_CONDA_HOME or MLFLOW_CONDA_HOME); use --env-manager "
                "virtualenv or local"
            )
        self.conda = found
        digest = hashlib.sha256(conda_file.read_bytes()).hexdigest()[:16]
        self.prefix = envs_dir() / f"conda-{digest}"

    def prepare(self, log: LineSink) -> None:
        with _file_lock(self.prefix.with_suffix(".lock")):
            if (self.prefix / "conda-meta").is_dir():
                return
            cmd = [self.conda, "env", "create", "--yes", "-p", str(self.prefix)]
            _checked([*cmd, "-f", str(self.conda_file)], self.conda_file.parent, log)

    def run(
        self, command: str, cwd: Path, env: Mapping[str, str], sink: LineSink, handle: RunHandle
    ) -> int:
        argv = [self.conda, "run", "--no-capture-output", "-p", str(self.prefix)]
        return _stream_process(
            [*argv, "bash", "-c", command], cwd, {**os.environ, **env}, sink, handle
        )


def _host_mounts(env: Mapping[str, str]) -> tuple[dict[str, dict[str, str]], bool]:
    """Volumes that make the tracking store and local artifacts reachable at the same paths in
    the container (so no URI needs rewriting), and whether the host network is needed."""
    volumes: dict[str, dict[str, str]] = {}
    host_network = False
    uri = env.get("MLFLOWX_TRACKING_URI", "")
    parts = urlsplit(uri)
    if parts.scheme == "sqlite":
        db_dir = str(Path(uri[len("sqlite:///") :].partition("?")[0]).resolve().parent)
        volumes[db_dir] = {"bind": db_dir, "mode": "rw"}
    elif parts.scheme in ("http", "https") or parts.scheme in ("postgresql", "postgres", "mysql"):
        host_network = True
    artifacts = env.get("MLFLOWX_ARTIFACT_DIR")
    if artifacts:
        volumes[artifacts] = {"bind": artifacts, "mode": "rw"}
    return volumes, host_network


class DockerEnvironment(Environment):
    """The command runs in ``docker_env.image`` (Docker SDK), the project mounted at
    ``/mlflow/projects/code``."""

    name = "docker"

    def __init__(self, docker_env: DockerEnv, client: Any = None) -> None:
        self.docker_env = docker_env
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import docker
            except ImportError:
                raise InvalidParameter(
                    "The docker environment needs the Docker SDK: pip install 'mlflowx[docker]'"
                ) from None
            self._client = docker.from_env()
        return self._client

    def prepare(self, log: LineSink) -> None:
        import docker.errors

        image = self.docker_env.image
        try:
            self.client.images.get(image)
        except docker.errors.ImageNotFound:
            log(f"Pulling {image}")
            try:
                self.client.images.pull(image)
            except docker.errors.APIError as exc:
                raise InvalidParameter(
                    f"docker_env image {image!r} is not available locally and cannot be "
                    f"pulled: {exc}"
                ) from None

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        out = {k: v for k, v in env.items() if k != "MLFLOWX_ARTIFACT_DIR"}
        for entry in self.docker_env.environment:
            if isinstance(entry, str):
                if entry not in os.environ:
                    raise InvalidParameter(
                        f"docker_env.environment copies {entry!r} from this machine, but it is "
                        "not set here"
                    )
                out[entry] = os.environ[entry]
            else:
                out[entry[0]] = entry[1]
        return out

    def run(
        self, command: str, cwd: Path, env: Mapping[str, str], sink: LineSink, handle: RunHandle
    ) -> int:
        volumes, host_network = _host_mounts(env)
        volumes[str(cwd)] = {"bind": CONTAINER_WORKDIR, "mode": "rw"}
        for spec in self.docker_env.volumes:
            host, _, rest = spec.partition(":")
            bind, _, mode = rest.partition(":")
            volumes[str(Path(host).expanduser().resolve())] = {"bind": bind, "mode": mode or "rw"}
        options: dict[str, Any] = {"user": f"{os.getuid()}:{os.getgid()}"}
        if host_network:
            options["network_mode"] = "host"
        options.update(self.docker_env.run_options)
        container = self.client.containers.run(
            self.docker_env.image, ["bash", "-c", command], detach=True,
            working_dir=CONTAINER_WORKDIR, volumes=volumes,
            environment={"HOME": "/tmp", **self.environment(env)}, **options,
        )  # fmt: skip
        handle.attach(lambda: _quiet(container.kill))
        try:
            pending = b""
            for chunk in container.logs(stream=True, follow=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    sink(line.decode("utf-8", errors="replace").rstrip("\r"))
            if pending:
                sink(pending.decode("utf-8", errors="replace"))
            status: int = container.wait()["StatusCode"]
            return status
        finally:
            _quiet(lambda: container.remove(force=True))


def _quiet(action: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):
        action()
