"""``synth`` keeps each region's labels beside it; ``evaluate`` refuses another region's labels."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.engine import Store

runner = CliRunner()


def _synth(out: Path, seed: int) -> None:
    args = ["synth", str(out), "--cases", "60", "--seed", str(seed), "--months", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def test_two_regions_in_one_folder_keep_their_labels_and_evaluate_checks_them(
    tmp_path: Path,
) -> None:
    _synth(tmp_path / "north", 1)
    _synth(tmp_path / "south", 2)
    north, south = tmp_path / "north-labels", tmp_path / "south-labels"
    assert (north / "labels.csv").is_file() and (south / "labels.csv").is_file()
    assert (north / "labels.csv").read_bytes() != (south / "labels.csv").read_bytes()

    db = tmp_path / "north.duckdb"
    result = runner.invoke(app, ["ingest", str(tmp_path / "north"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        store.ensure("finding")
    ok = runner.invoke(app, ["evaluate", "--db", str(db), "--labels", str(north / "labels.csv")])
    assert ok.exit_code == 0, ok.output
    wrong = runner.invoke(app, ["evaluate", "--db", str(db), "--labels", str(south / "labels.csv")])
    assert wrong.exit_code == 2, wrong.output
    assert "不匹配" in wrong.output and "do not belong" in wrong.output
