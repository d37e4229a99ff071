"""The UI ships inside the wheel, with its vendored licences, and needs nothing beyond the
server's own dependencies (the scoring image, which installs mlflowx, gains no package)."""

from __future__ import annotations

import ast
import sys
import zipfile
from pathlib import Path

import mlflowx.ui
from mlflowx.docker import mlflowx_wheel
from mlflowx.ui import STATIC_DIR

#: What mlflowx.ui may import: the standard library, the server extra's web stack, mlflowx.
ALLOWED = {"fastapi", "starlette", "mlflowx"}


def test_ui_imports_only_the_server_stack() -> None:
    package = Path(mlflowx.ui.__file__).parent
    for module in package.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ALLOWED, f"{module.name}: {name}"


def test_the_wheel_ships_the_ui(tmp_path: Path) -> None:
    wheel = mlflowx_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        str(p.relative_to(STATIC_DIR.parent.parent.parent)).replace("\\", "/")
        for p in STATIC_DIR.rglob("*")
        if p.is_file()
    }
    assert shipped, "no static files found"
    missing = sorted(shipped - names)
    assert not missing, f"not in the wheel: {missing}"
    for licence in ("uplot/LICENSE", "swagger-ui/LICENSE", "swagger-ui/NOTICE"):
        assert f"mlflowx/ui/static/vendor/{licence}" in names
