"""The four indicators checked by hand on the small fixture; the step, the workbook and the CLI.

One store for the module: ``huiyan qc --db --out`` runs once, the tests read what it wrote.
"""

from __future__ import annotations

from typing import Any

import openpyxl
import pytest
import typer
from qc_fixture import base, load, patch
from typer.testing import CliRunner

from huiyan.cli import qc as qc_cli
from huiyan.engine import Store
from huiyan.kb import config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import qc as qc_step


def _fixture(store: Store) -> None:
    t = base()
    t = patch(t, [{"table": "setl_list", "set": {"hi_no": None}}], "S1")  # error: incomplete
    t = patch(t, [{"table": "drg_result", "set": {"status": "QY"}}], "S3")  # warning only
    s5 = {**next(r for r in t["setl_list"] if r["setl_id"] == "S4"), "setl_id": "S5"}
    s5.update(mdtrt_id="M5", psn_no="P5", medcasno="MC5", med_type="21", insutype="310")
    t["setl_list"].append(s5)  # a settlement without a list (no diagnoses): not uploaded
    load(store, t)


def _cli() -> typer.Typer:
    app = typer.Typer()
    qc_cli.register(app)
    app.command("noop")(lambda: None)  # two commands, so typer keeps the "qc" sub-command name
    return app


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("qcind")
    db = tmp / "h.duckdb"
    with Store(db) as s:
        _fixture(s)
    res = CliRunner().invoke(_cli(), ["qc", "--db", str(db), "--out", str(tmp / "out")])
    assert res.exit_code == 0, res.output
    return {"db": db, "out": tmp / "out", "output": res.output}


def test_indicators_by_hand(ran: dict[str, Any]) -> None:
    with Store(ran["db"]) as s:
        rows = s.read("qc_indicator").to_pylist()
    got = {(r["period"], r["indicator"]): (r["numerator"], r["denominator"]) for r in rows}
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
    rates = {(r["period"], r["indicator"]): r["rate"] for r in rows}
    assert rates[("2024-04", "upload_rate")] == 2 / 3


def test_workbook_has_chinese_sheets_and_issues(ran: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(ran["out"] / "质控报告_H37150200001.xlsx")
    assert wb.sheetnames == ["指标汇总", "质控问题", "规则统计"]
    issues = list(wb["质控问题"].iter_rows(values_only=True))
    assert issues[0][:4] == ("结算ID", "规则编号", "规则名称", "严重程度")
    assert ("S1", "QC-C001") in {(r[0], r[1]) for r in issues[1:]}
    summary = list(wb["指标汇总"].iter_rows(values_only=True))
    assert summary[3][0] == "2024-03" and summary[3][1:4] == (2, 2, 1.0)


def test_step_rerun_replaces_results(ran: dict[str, Any]) -> None:
    with Store(ran["db"]) as s:
        before = s.count("qc_issue")
        report = qc_step.run(RunContext(engine=s, config=config.load()))
        assert s.count("qc_issue") == before == report.rows["qc_issue"] > 0
        assert s.count("qc_indicator") == 8


def test_explain_lists_every_check(ran: dict[str, Any]) -> None:
    res = CliRunner().invoke(_cli(), ["qc", "--db", str(ran["db"]), "--explain", "S1"])
    assert res.exit_code == 0, res.output
    assert "QC-C001" in res.output and "不通过" in res.output and "通过" in res.output
