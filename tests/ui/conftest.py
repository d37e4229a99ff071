"""Browser test modules import Playwright at the top: without it (no test extra), each such
module is reported as skipped with the reason, or fails under MLFLOWX_REQUIRE_ALL=1 (CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.fixtures.env import need

try:
    import playwright.sync_api  # noqa: F401

    HAS_PLAYWRIGHT = True
except ImportError:
    HAS_PLAYWRIGHT = False
REASON = "browser tests need Python's playwright (pip install -e '.[test]')"


class _NoPlaywright(pytest.Module):
    def collect(self) -> NoReturn:
        need(False, REASON)
        raise AssertionError("unreachable")  # need() skips or fails


def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> pytest.Module | None:
    if HAS_PLAYWRIGHT or "playwright" not in module_path.read_text(encoding="utf-8"):
        return None
    return _NoPlaywright.from_parent(parent, path=module_path)
