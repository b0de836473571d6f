"""The monitor step on the fixture, ``huiyan monitor --report``, and the HTML report's section."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.monitor import fixture
from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.engine import Store
from huiyan.report.summary import write_summary_html


def test_cli_writes_tables_and_a_workbook_with_native_charts(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    with Store(db) as store:
        fixture.load(store)
    out = tmp_path / "monitor.xlsx"
    result = CliRunner().invoke(app, ["monitor", "--db", str(db), "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert "确认扣减金额按明确违规" in result.output  # no review table: said so
    with Store(db) as store:
        rows = store.con.sql(
            "select value from indicator where subject = 'H1' and period = '2025-03' "
            "and indicator = 'violation_share'"
        ).fetchall()
        assert rows == [(350 / 3250,)]
        html = write_summary_html(store, tmp_path / "s.html").read_text("utf-8")
    names = zipfile.ZipFile(out).namelist()
    assert sum(n.startswith("xl/charts/chart") for n in names) == 5  # one per effect series
    assert html.count("<svg") == 5 and "违规金额占基金支付比 月度趋势" in html


def test_cli_names_a_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["monitor", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0
    assert "数据库文件不存在" in result.output and "Traceback" not in result.output
