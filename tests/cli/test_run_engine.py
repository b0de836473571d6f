"""``huiyan run --engine``: an unknown engine is a clear user error that leaves no store behind."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from huiyan.cli.errors import EXIT_USER
from huiyan.cli.main import app


def test_unknown_engine_is_a_user_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = tmp_path / "run.duckdb"
    result = CliRunner().invoke(app, ["run", str(data), "--db", str(db), "--engine", "oracle"])
    assert result.exit_code == EXIT_USER, result.output
    assert "unknown engine" in result.output and "duckdb, spark" in result.output
    assert "Traceback" not in result.output
    assert not db.exists()
