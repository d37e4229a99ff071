"""The one image builder without Docker: Dockerfile text, build context, cache keys, tags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mlflowx.docker import Copy, ImageSpec, Resolved, check_image_tag, render_dockerfile
from mlflowx.docker.flow_image import flow_spec
from mlflowx.docker.spec import context_digest, stage_context
from mlflowx.docker.wheels import source_tree, wheelhouse_key
from mlflowx.exceptions import InvalidParameter

ROOT = Path(__file__).resolve().parents[2]


def _wheel(path: Path, requires: list[str]) -> Path:
    wheel = path / "mlflowx-0.1.0-py3-none-any.whl"
    metadata = "Name: mlflowx\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mlflowx-0.1.0.dist-info/METADATA", metadata)
    return wheel


def _spec(tmp_path: Path, **changes: object) -> ImageSpec:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "main.py").write_text("print(1)\n")
    fields: dict[str, object] = {
        "base": "base:1",
        "requirements": ("numpy==2.0",),
        "mlflowx_extras": ("serving",),
        "copies": (Copy("project", project, "/srv/project"),),
        "env": {"A": "1"},
        "workdir": "/srv/project",
        "cmd": ("python", "main.py"),
    }
    return ImageSpec(**(fields | changes))  # type: ignore[arg-type]


def test_dockerfile_installs_offline_then_copies_the_files(tmp_path: Path) -> None:
    text = render_dockerfile(_spec(tmp_path), "mlflowx-0.1.0-py3-none-any.whl", comment="hi")
    assert text.startswith("# hi\n")
    assert text.count("FROM base:1") == 2  # the deps stage, then the runtime stage
    deps = text.split("FROM base:1 AS deps", 1)[1].split("\nFROM base:1\n", 1)[0]
    assert "--no-index" in deps
    assert "--find-links /tmp/wheelhouse" in deps
    assert "tests" not in deps  # strip_tests is off unless asked for
    runtime = text.split("\nFROM base:1\n", 1)[1]
    assert "COPY --from=deps /opt/venv /opt/venv" in runtime
    assert "--no-deps" in runtime
    assert "/tmp/dist/mlflowx-0.1.0-py3-none-any.whl" in runtime
    assert "pip check" not in runtime
    assert "ENV PATH=/opt/venv/bin:$PATH \\\n    A=1\n" in runtime
    assert runtime.index("ENV") < runtime.index("COPY project/ /srv/project/")
    assert "WORKDIR /srv/project" in runtime
    assert json.loads(runtime.split("\nCMD ", 1)[1].splitlines()[0]) == ["python", "main.py"]
    assert "USER" not in runtime
    assert "HEALTHCHECK" not in runtime


def test_dockerfile_parts_for_a_layered_image(tmp_path: Path) -> None:
    spec = _spec(tmp_path, user=10001, strip_tests=True, pip_check=True, expose=8080)
    install = render_dockerfile(spec, "w.whl", part="install")
    assert "useradd --system --uid 10001" in install
    assert "pip check" in install
    assert "-name tests" in install
    assert "COPY project/" not in install
    assert "CMD" not in install
    tail = render_dockerfile(spec, "w.whl", part="tail")
    assert tail.startswith("FROM base:1\nCOPY project/ /srv/project/\nUSER 10001:10001\n")
    assert "EXPOSE 8080" in tail
    assert "pip" not in tail


def test_an_image_without_installs_has_one_stage(tmp_path: Path) -> None:
    text = render_dockerfile(_spec(tmp_path, requirements=(), mlflowx_extras=None), None)
    assert text.count("FROM ") == 1
    assert "wheelhouse" not in text
    assert "ENV" not in text


def test_context_holds_wheels_and_files_without_caches(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    (tmp_path / "project" / "__pycache__").mkdir()
    (tmp_path / "project" / "__pycache__" / "main.pyc").write_bytes(b"x")
    (tmp_path / "project" / ".git").mkdir()
    house = tmp_path / "house"
    house.mkdir()
    (house / "numpy-2.0-cp311-none-any.whl").write_bytes(b"np")
    (house / ".complete").write_text("{}")
    resolved = Resolved(wheel=_wheel(tmp_path, []), wheelhouse=house)
    ctx = tmp_path / "ctx"
    stage_context(spec, resolved, ctx)
    found = sorted(str(p.relative_to(ctx)) for p in ctx.rglob("*") if p.is_file())
    assert found == [
        "dist/mlflowx-0.1.0-py3-none-any.whl",
        "project/main.py",
        "wheelhouse/numpy-2.0-cp311-none-any.whl",
    ]
    tail_only = tmp_path / "tail"
    stage_context(spec, resolved, tail_only, wheels=False)
    assert sorted(p.name for p in tail_only.iterdir()) == ["project"]


def test_content_digest_follows_the_inputs(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    house = tmp_path / "house-a"
    house.mkdir()
    resolved = Resolved(wheel=_wheel(tmp_path, []), wheelhouse=house)
    ctx = tmp_path / "ctx"
    stage_context(spec, resolved, ctx)
    first = context_digest("FROM x\n", resolved, ctx)
    assert first == context_digest("FROM x\n", resolved, ctx)
    assert first != context_digest("FROM y\n", resolved, ctx)
    assert first != context_digest("FROM x\n", Resolved(resolved.wheel, tmp_path / "b"), ctx)
    (ctx / "project" / "main.py").write_text("print(2)\n")
    assert first != context_digest("FROM x\n", resolved, ctx)


def test_wheelhouse_key_covers_what_decides_its_content(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, ["pydantic>=2", "fastapi; extra == 'serving'"])
    key = wheelhouse_key("sha256:a", ["b==1", "a==1"], wheel, ("serving",))
    assert key == wheelhouse_key("sha256:a", ["a==1", "b==1"], wheel, ("serving",))
    assert len({
        key,
        wheelhouse_key("sha256:b", ["a==1", "b==1"], wheel, ("serving",)),
        wheelhouse_key("sha256:a", ["a==1"], wheel, ("serving",)),
        wheelhouse_key("sha256:a", ["a==1", "b==1"], wheel, ()),
        wheelhouse_key("sha256:a", ["a==1", "b==1"], wheel, ("serving",), ["x==1"]),
        wheelhouse_key("sha256:a", ["a==1", "b==1"], None, ("serving",)),
        wheelhouse_key("sha256:a", ["a==1", "b==1"], _wheel(tmp_path / "..", ["x"]), ("serving",)),
    }) == 7  # fmt: skip


@pytest.mark.parametrize("bad", ["name", "name:latest", "Name:1", "name:-x"])
def test_image_tags_need_an_explicit_tag(bad: str) -> None:
    with pytest.raises(InvalidParameter, match=r"tag|Invalid image name"):
        check_image_tag(bad)
    assert check_image_tag("127.0.0.1:5000/team/model:1.0") == "127.0.0.1:5000/team/model:1.0"


def test_flow_image_spec_installs_mlflowx_with_orchestration_and_the_flows() -> None:
    assert source_tree() == ROOT
    spec = flow_spec("base:1", ["prefect==3.0"])
    assert spec.mlflowx_extras == ("orchestration", "serving")
    assert spec.constraints == ("prefect==3.0",)
    assert spec.copies == (Copy("flows", ROOT / "flows", "/opt/mlflowx/flows"),)
    text = render_dockerfile(spec, "mlflowx-0.1.0-py3-none-any.whl")
    assert "WORKDIR /opt/mlflowx\n" in text
    assert "PREFECT_HOME=/tmp/prefect" in text


def test_flow_image_command_reports_errors_with_their_exit_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlflowx.docker", "flow-image", "--tag", "x:1",
         "--base-image", "mlflowx-no-such-base:0"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "DOCKER_HOST": "tcp://127.0.0.1:9"},
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert "Docker daemon" in done.stderr
    assert done.stdout == ""


def test_the_mlflowx_wheel_carries_the_sqlite_schema(tmp_path: Path) -> None:
    """Images install mlflowx from this wheel: a SQLite store made in a container is created
    from the shipped snapshot (without it, Alembic and SQLModel would be needed)."""
    from mlflowx.docker import mlflowx_wheel
    from mlflowx.store.sql.schema import SQLITE_SNAPSHOT

    names = set(zipfile.ZipFile(mlflowx_wheel(tmp_path)).namelist())
    assert str(SQLITE_SNAPSHOT.relative_to(ROOT)) in names
    assert "mlflowx/store/sql/migrations/script.py.mako" in names
