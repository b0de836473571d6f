"""The four indicators checked by hand on the small fixture, the workbook and the CLI."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from qc_fixture import base, load, patch
import typer
from typer.testing import CliRunner

from huiyan.cli import qc as qc_cli
from huiyan.engine import Store
from huiyan.kb import config
from huiyan.quality.service import run_qc
from huiyan.report.qc_workbook import write_all


def _fixture(store: Store) -> None:
    t = base()
    t = patch(t, [{"table": "setl_list", "set": {"hi_no": None}}], "S1")  # error: incomplete
    t = patch(t, [{"table": "drg_result", "set": {"status": "QY"}}], "S3")  # warning only
    s5 = {**next(r for r in t["setl_list"] if r["setl_id"] == "S4"), "setl_id": "S5"}
    s5.update(mdtrt_id="M5", psn_no="P5", medcasno="MC5", med_type="21", insutype="310")
    t["setl_list"].append(s5)  # a settlement without a list (no diagnoses): not uploaded
    load(store, t)


def test_indicators_by_hand(store: Store) -> None:
    _fixture(store)
    result = run_qc(store, config.load())
    got = {
        (r["period"], r["indicator"]): (r["numerator"], r["denominator"])
        for r in result.indicators.to_pylist()
    }
    # March: S1 (missing 医保编号, an error), S2 clean; both grouped.
    # April: S3 (QY: not grouped, warning only), S4 (maternity: out of scope), S5 (no list).
    assert got == {
        ("2024-03", "upload_rate"): (2, 2),
        ("2024-03", "completeness_rate"): (1, 2),
        ("2024-03", "grouping_rate"): (2, 2),
        ("2024-03", "qc_pass_rate"): (1, 2),
        ("2024-04", "upload_rate"): (2, 3),
        ("2024-04", "completeness_rate"): (2, 2),
        ("2024-04", "grouping_rate"): (0, 1),
        ("2024-04", "qc_pass_rate"): (2, 2),
    }
    rates = {(r["period"], r["indicator"]): r["rate"] for r in result.indicators.to_pylist()}
    assert rates[("2024-04", "upload_rate")] == 2 / 3


def test_rerun_replaces_results(store: Store) -> None:
    _fixture(store)
    first = run_qc(store, config.load()).issues.num_rows
    run_qc(store, config.load())
    assert store.count("qc_issue") == first > 0
    assert store.count("qc_indicator") == 8


def test_workbook_has_chinese_sheets_and_issues(store: Store, tmp_path: Path) -> None:
    _fixture(store)
    result = run_qc(store, config.load())
    [path] = write_all(tmp_path, result.issues, result.indicators, {"H37150200001": "聊城市人民医院"})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["指标汇总", "质控问题", "规则统计"]
    issues = list(wb["质控问题"].iter_rows(values_only=True))
    assert issues[0][:4] == ("结算ID", "规则编号", "规则名称", "严重程度")
    assert ("S1", "QC-C001") in {(r[0], r[1]) for r in issues[1:]}
    summary = list(wb["指标汇总"].iter_rows(values_only=True))
    assert summary[3][0] == "2024-03" and summary[3][1:4] == (2, 2, 1.0)


def test_cli_qc_and_explain(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    with Store(db) as s:
        _fixture(s)
    app = typer.Typer()
    qc_cli.register(app)
    app.command("noop")(lambda: None)  # two commands, so typer keeps the "qc" sub-command name
    runner = CliRunner()
    res = runner.invoke(app, ["qc", "--db", str(db), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "质控报告_H37150200001.xlsx").exists()
    res = runner.invoke(app, ["qc", "--db", str(db), "--explain", "S1"])
    assert res.exit_code == 0, res.output
    assert "QC-C001" in res.output and "不通过" in res.output
