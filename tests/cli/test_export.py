"""``huiyan export`` writes CSV, Parquet or XLSX by extension, optionally with Chinese labels."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.engine import Store
from huiyan.model.tables import MEDINS, QUARANTINE

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "h.duckdb"
    with Store(path) as store:
        store.con.execute(
            "create table medins as select 'H' || i as medins_code, '医院' || i as medins_name, "
            "'3' as medins_lv, 'general' as medins_type, '370100' as admdvs from range(3) t(i)"
        )
    return path


def test_csv_has_bom_and_rows(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["export", "medins", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == MEDINS.columns and lines[2].startswith("H1,医院1")


def test_parquet_with_labels(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.parquet"
    result = runner.invoke(
        app, ["export", "medins", "--db", str(db), "--out", str(out), "--labels"]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names == [f.label for f in MEDINS.fields]
    assert table.num_rows == 3


def test_xlsx(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.xlsx"
    assert (
        runner.invoke(app, ["export", "medins", "--db", str(db), "--out", str(out)]).exit_code == 0
    )
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert rows[0] == MEDINS.columns and rows[3][1] == "医院2"


def test_unknown_table_and_format_are_clear_errors(db: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", QUARANTINE.name, "--db", str(db), "--out", str(tmp_path / "q.csv")]
    )
    assert result.exit_code == 2 and "medins" in result.output
    result = runner.invoke(
        app, ["export", "medins", "--db", str(db), "--out", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 2
