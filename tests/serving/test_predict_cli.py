"""``mlflowx models predict``: batch scoring of CSV and JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mlflowx.cli import app
from tests.serving._scoring import bodies, save_custom, save_iris

runner = CliRunner()


@pytest.fixture
def iris_model(tmp_path: Path) -> tuple[Path, pd.DataFrame, list[int]]:
    X, model = save_iris(tmp_path / "m")
    frame = X.iloc[::15].reset_index(drop=True)
    return tmp_path / "m", frame, model.predict(frame).tolist()


@pytest.mark.parametrize("fmt", ["csv", "dataframe_split", "dataframe_records", "inputs"])
def test_predict_file_to_json(
    fmt: str, iris_model: tuple[Path, pd.DataFrame, list[int]], tmp_path: Path
) -> None:
    model, frame, expected = iris_model
    _, body = bodies(frame)[fmt]
    source = tmp_path / ("input.csv" if fmt == "csv" else "input.json")
    source.write_bytes(body)
    out = tmp_path / "out.json"
    result = runner.invoke(
        app, ["models", "predict", "-m", str(model), "-i", str(source), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == {"predictions": expected}


def test_predict_to_csv_and_stdout(
    iris_model: tuple[Path, pd.DataFrame, list[int]], tmp_path: Path
) -> None:
    model, frame, expected = iris_model
    source = tmp_path / "rows.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "predictions.csv"
    result = runner.invoke(
        app, ["models", "predict", "-m", str(model), "-i", str(source), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["predictions"].tolist() == expected
    # No -o: JSON on stdout; an explicit --content-type overrides the extension.
    renamed = tmp_path / "rows.txt"
    renamed.write_text(source.read_text())
    result = runner.invoke(
        app, ["models", "predict", "-m", str(model), "-i", str(renamed), "--content-type", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"predictions": expected}


def test_predict_with_params_and_frame_output(tmp_path: Path) -> None:
    model = save_custom(tmp_path)
    source = tmp_path / "in.json"
    source.write_text(
        json.dumps(
            {
                "dataframe_split": {"columns": ["x"], "data": [[1.0], [2.0]]},
                "params": {"scale": 3.0},
            }
        )
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        ["models", "predict", "-m", str(model), "-i", str(source), "-o", str(out), "--allow-code"],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["x"].tolist() == [3.0, 6.0]


def test_predict_errors_name_the_problem(
    iris_model: tuple[Path, pd.DataFrame, list[int]], tmp_path: Path
) -> None:
    import subprocess
    import sys

    model, _, _ = iris_model
    bad = tmp_path / "bad.json"
    bad.write_text('{"dataframe_records": [{"sepal length (cm)": 1.0}]}')
    mlflowx_bin = str(Path(sys.executable).parent / "mlflowx")
    cases = [
        (["-i", str(bad)], "missing inputs"),
        (["-i", str(tmp_path / "none.csv")], "No input file"),
        (["-i", str(bad), "--content-type", "xml"], "json or csv"),
        (["-i", str(bad), "--env-manager", "conda"], "--env-manager 'conda' is not supported"),
    ]
    for args, words in cases:
        done = subprocess.run(
            [mlflowx_bin, "models", "predict", "-m", str(model), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, done.stderr
        assert words in done.stderr
