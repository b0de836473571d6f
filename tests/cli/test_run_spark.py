"""``huiyan run --engine spark`` runs every step, writes the results as Parquet in the
warehouse, and ``huiyan export`` reads them from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from huiyan.cli.main import app

pytestmark = pytest.mark.spark


def test_run_on_spark_then_export(tmp_path: Path, spark: Any) -> None:
    from huiyan.synth.generate import generate

    data, db = tmp_path / "data", tmp_path / "run.duckdb"
    generate(data, cases=200, seed=3, labels_dir=tmp_path / "labels")
    runner = CliRunner()
    args = ["run", str(data), "--db", str(db), "--engine", "spark", "--spark-master", "local[2]"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    warehouse = tmp_path / "run-warehouse"
    for name in ("drg_result", "payment", "finding", "indicator"):
        assert any((warehouse / name).glob("*.parquet")), name
    out = tmp_path / "drg.csv"
    result = runner.invoke(app, ["export", "drg_result", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = pacsv.read_csv(out)
    assert exported.num_rows > 200
    assert "drg" in exported.column_names
