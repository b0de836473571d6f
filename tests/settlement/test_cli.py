from __future__ import annotations

from decimal import Decimal

import openpyxl
from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.engine import Store
from pricing import builders as b


def test_price_then_settle_reconciles_and_writes_the_workbook(tmp_path) -> None:
    db = tmp_path / "h.duckdb"
    with Store(db) as store:
        rows = [b.settlement(f"E{i}", "H1", 15_000 + 37 * i, month=1 + i % 12) for i in range(24)]
        rows += [b.settlement(f"G{i}", "H2", 6_001 + i, month=12, adm_way="1") for i in range(10)]
        b.write(store, "setl_list", rows)
        b.write(
            store,
            "drg_result",
            [b.drg(r["setl_id"], "ES21" if r["setl_id"][0] == "E" else "GE15") for r in rows],
        )
        b.write(store, "medins", [b.medins("H1", "3"), b.medins("H2", "2")])
        b.write(
            store,
            "diseinfo",
            [{"setl_id": r["setl_id"], "diag_srt_no": 1, "diag_code": "I21.000"} for r in rows],
        )
        b.write(
            store,
            "finding",
            [
                {
                    "jr_id": "j1",
                    "rule_id": "R1",
                    "rule_name": "r",
                    "vola_bhvr_type": "UPCODE",
                    "sev_deg": "1",
                    "setl_id": "E3",
                    "vola_amt": Decimal("1234.56"),
                    "vola_cont": "c",
                    "vola_evid": "e",
                    "stage": "post",
                }
            ],
        )
    runner = CliRunner()
    out = runner.invoke(app, ["price", "--db", str(db), "--report", str(tmp_path / "sim.xlsx")])
    assert out.exit_code == 0, out.output
    assert "DRG病组盈亏" in openpyxl.load_workbook(tmp_path / "sim.xlsx").sheetnames
    assert runner.invoke(app, ["settle", "--db", str(db), "--period", "2024-12"]).exit_code == 0
    out = runner.invoke(app, ["settle", "--db", str(db), "--period", "2024-12", "--year-end"])
    assert out.exit_code == 0, out.output
    bad = runner.invoke(app, ["settle", "--db", str(db), "--period", "2024-13"])
    assert bad.exit_code == 2
    with Store(db) as store:
        pool = store.con.sql(
            "select kind, pool_in, paid_out + withheld + redistributed, redistributed, reconciled from settlement_pool order by kind"
        ).fetchall()
    assert all(r[1] == r[2] and r[4] for r in pool)
    assert str(pool[1][3]) == "1234.56"
