"""Published / frozen standards by effective date, price diff, the calibration workbook."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.engine import Store
from pricing import builders as b


def _region(db) -> None:
    with Store(db) as store:
        b.write(store, "medins", [b.medins("H1", "3")])
        rows = [b.settlement(f"A{i}", "H1", 2_000, month=i % 12 + 1) for i in range(12)]
        rows += [b.settlement(f"N{i}", "H1", 2_000, year=2025, month=1) for i in range(3)]
        b.write(store, "setl_list", rows)
        b.write(store, "drg_result", [b.drg(r["setl_id"], "FR15") for r in rows])
        b.write(
            store,
            "diseinfo",
            [{"setl_id": r["setl_id"], "diag_srt_no": 1, "diag_code": "J18.900"} for r in rows],
        )


def _drg(db) -> dict[str, dict]:
    with Store(db) as store:
        return {r["setl_id"]: r for r in store.read("payment").to_pylist() if r["method"] == "DRG"}


def test_published_standards_pay_the_cases_discharged_while_in_force(tmp_path) -> None:
    db = tmp_path / "h.duckdb"
    _region(db)
    runner = CliRunner()
    assert runner.invoke(app, ["price", "--db", str(db)]).exit_code == 0
    derived = _drg(db)
    assert derived["N0"]["rate_or_point_value"] == derived["A0"]["rate_or_point_value"]
    pub = tmp_path / "pub.csv"
    pub.write_text(
        "version,effective_from,effective_to,method,kind,key,value\n"
        "2025,2025-01-01,,DRG,weight,FR15,1.2\n"
        "2025,2025-01-01,,DRG,rate,*,3000\n"
        "2025,2025-01-01,,DRG,coefficient,3,0.9\n",
        encoding="utf-8",
    )
    out = runner.invoke(app, ["price", "load", str(pub), "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert runner.invoke(app, ["price", "--db", str(db)]).exit_code == 0
    pay = _drg(db)
    # Discharged in 2025: 1.2 × 3,000 × 0.9 = 3,240; 2024 cases keep the derived standard.
    assert pay["N0"]["standard_payment"] == Decimal("3240.00")
    assert pay["A0"]["standard_payment"] == derived["A0"]["standard_payment"]


def test_freeze_and_diff_two_versions(tmp_path) -> None:
    db = tmp_path / "h.duckdb"
    _region(db)
    runner = CliRunner()
    assert runner.invoke(app, ["price", "--db", str(db)]).exit_code == 0
    out = runner.invoke(
        app, ["price", "freeze", "2024", "--effective-from", "2024-01-01", "--db", str(db)]
    )
    assert out.exit_code == 0, out.output
    cfg = tmp_path / "huiyan.yaml"
    cfg.write_text("payment:\n  drg:\n    growth: 0.1\n", encoding="utf-8")
    assert runner.invoke(app, ["price", "--db", str(db), "--config", str(cfg)]).exit_code == 0
    runner.invoke(
        app, ["price", "freeze", "2025", "--effective-from", "2025-01-01", "--db", str(db)]
    )
    out = runner.invoke(app, ["price", "diff", "2024", "2025", "--db", str(db)])
    assert out.exit_code == 0 and "+10.00%" in out.output, out.output
    bad = runner.invoke(
        app, ["price", "freeze", "x", "--effective-from", "2025-13-01", "--db", str(db)]
    )
    assert bad.exit_code != 0 and "不是日期" in bad.output


def test_calibration_workbook_explains_every_group(tmp_path) -> None:
    db = tmp_path / "h.duckdb"
    _region(db)
    xlsx = tmp_path / "cal.xlsx"
    out = CliRunner().invoke(app, ["price", "--db", str(db), "--calibration-report", str(xlsx)])
    assert out.exit_code == 0, out.output
    ws = openpyxl.load_workbook(xlsx)["DRG权重"]
    rows = list(ws.values)
    assert rows[0][0] == "DRG组" and rows[1][0] == "FR15"
    head = rows[0]
    row = dict(zip(head, rows[1], strict=True))
    assert (row["历史病例数"], row["测算年度病例数"], row["依据"]) == (15, 12, "本组病例")
