"""The ``huiyan ingest`` command and the pipeline step."""

from __future__ import annotations

from pathlib import Path

from tests.ingest.builders import SETL, write_dataset
from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.engine import Store
from huiyan.kb import config as kb_config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import ingest as step


def test_cli_prints_counts(data_dir: Path, tmp_path: Path) -> None:
    rows = [dict(r) for r in SETL]
    rows[0]["age"] = "abc"
    write_dataset(data_dir, setl_list=rows)
    db = tmp_path / "h.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(data_dir), "--db", str(db)])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if "setl_list" in ln)
    assert [c.strip() for c in line.split("│")[2:5]] == ["5", "4", "1"]


def test_step_reports_accepted_rows(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    ctx = RunContext(engine=store, config=kb_config.load(None), data_dir=data_dir)
    report = step.run(ctx)
    assert report.rows["setl_list"] == len(SETL)
    assert step.run(ctx).rows == {}
