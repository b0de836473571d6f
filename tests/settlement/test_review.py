from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from huiyan.engine import Store
from huiyan.kb import config as kb_config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import price
from huiyan.settlement.run import settle
from pricing import builders as b


def test_an_approved_extreme_dip_case_is_paid_at_its_proposed_score(store: Store) -> None:
    b.write(store, "medins", [b.medins("H3", "3")])
    rows = [b.settlement(f"C{i}", "H3", 3_000 + 10 * i, month=i % 12 + 1) for i in range(24)]
    rows.append(b.settlement("EX", "H3", 40_000, month=12))
    b.write(store, "setl_list", rows)
    b.write(
        store,
        "diseinfo",
        [{"setl_id": r["setl_id"], "diag_srt_no": 1, "diag_code": "J18.900"} for r in rows],
    )
    b.write(store, "drg_result", [b.drg(r["setl_id"], "ES15") for r in rows])
    cfg = kb_config.load()
    cfg["payment"]["method"] = "DIP"
    price.run(RunContext(store, cfg))
    review = store.read("dip_review").to_pylist()
    assert [r["setl_id"] for r in review] == ["EX"]
    pay = next(
        r
        for r in store.read("payment").to_pylist()
        if r["setl_id"] == "EX" and r["method"] == "DIP"
    )

    def due(ledger) -> int:
        return next(c["fund_due"] for c in ledger.cases if c["setl_id"] == "EX")

    pending = due(settle(store, cfg, period="2024-12", year_end_clearing=True))
    store.con.execute("update dip_review set status = 'approved' where setl_id = 'EX'")
    approved = due(settle(store, cfg, period="2024-12", year_end_clearing=True))
    proposed = review[0]["proposed_score"] * pay["rate_or_point_value"] * pay["coefficient"]
    expected = proposed.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    patient = Decimal("8000.00")  # 40,000 − the fund's 80 %
    assert approved > pending
    assert Decimal(approved).scaleb(-2) == expected - patient
