"""Third-party flavors: an installed distribution's ``mlflowx.flavors`` entry point adds a
flavor that saves, loads and predicts through the one pipeline, without editing mlflowx."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlflowx.pyfunc
from mlflowx.models import flavors
from mlflowx.models.load import load_native
from mlflowx.models.save import save_model

PLUGIN = '''
"""A tiny third-party flavor: a linear model stored as JSON."""
import json
from pathlib import Path
from typing import Any

from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor


class Linear:
    def __init__(self, weight: float, bias: float) -> None:
        self.weight, self.bias = weight, bias

    def predict(self, data: Any) -> list[float]:
        return [self.weight * x + self.bias for x in data["x"]]


class _Predict(PredictFn):
    def __init__(self, model: Linear) -> None:
        self.model = model

    def predict(self, data: Any, params: Any = None) -> Any:
        return self.model.predict(data)


class AcmeFlavor(Flavor):
    name = "acme_linear"
    loader_modules = ("acme_flavor",)

    def save(self, model: Any, path: Path, **_: Any) -> SavedFlavor:
        (path / "linear.json").write_text(json.dumps([model.weight, model.bias]))
        conf = {"data": "linear.json"}
        return SavedFlavor(conf, {"loader_module": "acme_flavor", "data": "linear.json"})

    def needs(self, path, conf):
        return []

    def pyfunc_needs(self, path, pyfunc_conf, flavors):
        return []

    def load(self, path, conf, policy):
        return Linear(*json.loads((path / conf["data"]).read_text()))

    def pyfunc(self, path, pyfunc_conf, flavors, policy):
        return _Predict(self.load(path, pyfunc_conf, policy))


class Impostor(AcmeFlavor):
    name = "sklearn"
'''


def _install(root: Path, entry_points: str) -> None:
    """An installed distribution: its module and its dist-info, on sys.path."""
    (root / "acme_flavor.py").write_text(PLUGIN)
    info = root / "acme_flavor-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-flavor\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(flavors, "_plugins_loaded", False)
    flavors._load_builtin()  # the built-ins first: the plugin must not be imported by this
    monkeypatch.setattr(flavors, "_plugins_loaded", False)
    saved = dict(flavors.FLAVORS)
    yield root
    flavors.FLAVORS.clear()
    flavors.FLAVORS.update(saved)
    sys.modules.pop("acme_flavor", None)


def test_entry_point_flavor_saves_loads_and_predicts(site: Path, tmp_path: Path) -> None:
    _install(site, "[mlflowx.flavors]\nacme_linear = acme_flavor:AcmeFlavor\n")
    assert "acme_linear" not in flavors.FLAVORS
    assert "acme_flavor" not in sys.modules
    flavor = flavors.get_flavor("acme_linear")
    assert flavor is not None
    assert flavor.__module__ == "acme_flavor"
    model = sys.modules["acme_flavor"].Linear(2.0, 1.0)
    save_model("acme_linear", model, tmp_path / "m")
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m")
    assert loaded.predict({"x": [0.0, 1.0, 2.0]}) == [1.0, 3.0, 5.0]
    assert load_native(tmp_path / "m", "acme_linear").weight == 2.0


def test_a_plugin_cannot_take_a_builtin_name(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    _install(site, "[mlflowx.flavors]\nsklearn = acme_flavor:Impostor\n")
    builtin = flavors.FLAVORS["sklearn"]
    with caplog.at_level(logging.WARNING, logger="mlflowx.models.flavors"):
        assert flavors.get_flavor("sklearn") is builtin
    assert "redefines the built-in flavor 'sklearn'" in caplog.text


def test_a_broken_plugin_is_skipped(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    _install(
        site,
        "[mlflowx.flavors]\nbroken = acme_flavor:NoSuchClass\nacme = acme_flavor:AcmeFlavor\n",
    )
    with caplog.at_level(logging.WARNING, logger="mlflowx.models.flavors"):
        assert flavors.get_flavor("acme_linear") is not None
    assert "Skipping flavor entry point 'acme_flavor:NoSuchClass' of acme-flavor" in caplog.text
