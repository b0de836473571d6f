"""Money follows the decision: ``huiyan settle --state`` deducts exactly the final amounts."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from tests.service.conftest import finding, item_ids
from typer.testing import CliRunner

from huiyan.cli.main import app as cli
from huiyan.engine import Store
from pricing import builders as b

API = "/api/v1"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Priced cases of two hospitals with four findings (overrides the small store)."""
    db = tmp_path / "region.duckdb"
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
                finding("jA", "E3", "H1", amt="1000.00", detail="11|12"),
                finding("jB", "E5", "H1", sev="1", rule="R-V", amt="500.00", detail="21"),
                finding("jC", "G1", "H2", amt="300.00"),
                finding("jD", "E7", "H1", amt="400.00"),
            ],
        )
    out = CliRunner().invoke(cli, ["price", "--db", str(db)])
    assert out.exit_code == 0, out.output
    return db


def _settle(db: Path, state: str | None, *extra: str) -> None:
    args = ["settle", "--db", str(db), "--period", "2024-12", *extra]
    if state:
        args += ["--state", state]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output


def _ledger(db: Path, kind: str) -> tuple[dict[str, Decimal], tuple]:
    with Store(db, read_only=True) as s:
        per = dict(
            s.con.sql(
                "select setl_id, deduction from settlement_case where kind = ? and deduction > 0",
                params=[kind],
            ).fetchall()
        )
        pool = s.con.sql(
            "select pool_in, paid_out, withheld, redistributed, reconciled from settlement_pool where kind = ?",
            params=[kind],
        ).fetchall()[0]
    return per, pool


def test_settle_deducts_exactly_the_final_decisions(client, app, settings, store_path) -> None:
    ids = item_ids(client)
    aud1, hosp1 = client.as_("aud1"), client.as_("hosp1")
    # jA: partially confirmed 700, appealed, cross review settles on 600
    client.post(
        f"{API}/reviews/{ids['jA']}/initial",
        json={"outcome": "partial", "amount": "700", "reason": "R05"},
        headers=aud1,
    )
    client.post(
        f"{API}/reviews/{ids['jC']}/initial",
        json={"outcome": "dismissed", "reason": "R07"},
        headers=aud1,
    )
    client.post(f"{API}/reviews/notify", json={}, headers=aud1)
    client.post(f"{API}/reviews/{ids['jA']}/appeal", json={"text": "部分合理"}, headers=hosp1)
    client.post(
        f"{API}/reviews/{ids['jA']}/attachments",
        files={"file": ("病历.pdf", b"%PDF-1.7", "application/pdf")},
        headers=hosp1,
    )
    client.post(f"{API}/reviews/{ids['jA']}/cross-review", json={}, headers=aud1)
    for name in ("exp1", "exp2"):
        r = client.post(
            f"{API}/reviews/{ids['jA']}/vote",
            json={"outcome": "partial", "amount": "600.00"},
            headers=client.as_(name),
        )
    assert r.json()["final_amount"] == "600.00"
    # jB (明确违规, auto-confirmed) accepted by the hospital: final 500; jD stays undecided
    assert (
        client.post(f"{API}/reviews/{ids['jB']}/accept", headers=hosp1).json()["state"] == "final"
    )
    assert client.get(f"{API}/reviews/{ids['jD']}", headers=aud1).json()["state"] == "pending"

    client.app.state.store.close()  # the service's snapshot, not the store, is open; settle writes the store
    _settle(store_path, settings.state)
    per, pool = _ledger(store_path, "monthly")
    assert per == {}  # nothing decided was discharged in 2024-12 (E3 April, E5 June)
    _settle(store_path, settings.state, "--year-end")
    per, pool = _ledger(store_path, "year_end")
    assert per == {"E3": Decimal("600.00"), "E5": Decimal("500.00")}
    pool_in, paid_out, withheld, redistributed, reconciled = pool
    assert reconciled and pool_in == paid_out + withheld + redistributed
    assert redistributed == Decimal("1100.00")

    # the hospital's 审核结果通知书 lists exactly the deducted items with their appeal outcome
    html = client.get(f"{API}/outputs/notices/H1", headers=hosp1)
    assert html.status_code == 200 and "审核结果通知书" in html.text and "1100.00" in html.text
    xlsx = client.get(f"{API}/outputs/notices/H1", params={"format": "xlsx"}, headers=aud1)
    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = {r[0]: r for r in ws.iter_rows(min_row=5, values_only=True)}
    assert set(rows) == {"jA", "jB"}
    assert rows["jA"][8] == 600 and rows["jA"][10] == "已申诉, 复审部分确认"
    assert rows["jB"][8] == 500 and rows["jB"][7] == "确认(自动)"
    assert "尚在复核中: 1" in ws["A2"].value  # jD
    # the printable PDF: Chinese text and amounts read back from the file itself
    pdf = client.get(f"{API}/outputs/notices/H1", params={"format": "pdf"}, headers=hosp1)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    text = text.replace("\n", "")  # table cells wrap their text over lines
    assert "审核结果通知书" in text and "定点医疗机构: H1" in text
    assert "确认扣减合计 1100.00 元" in text and "另有 1 条尚在复核中" in text
    assert "600.00" in text and "500.00" in text
    assert "已申诉, 复审部分确认" in text and "确认(自动)" in text
    assert "jA" in text and "jB" in text and "jD" not in text

    # without the workflow only the 明确违规 finding is deducted, at its full amount
    _settle(store_path, None, "--year-end")
    per, _ = _ledger(store_path, "year_end")
    assert per == {"E5": Decimal("500.00")}


def test_settle_with_a_missing_workflow_database_is_a_clear_error(tmp_path, store_path) -> None:
    out = CliRunner().invoke(
        cli,
        [
            "settle",
            "--db",
            str(store_path),
            "--period",
            "2024-12",
            "--state",
            str(tmp_path / "none.sqlite"),
        ],
    )
    assert out.exit_code == 2 and "复核工作库不存在" in out.output
