from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from huiyan.kb import config as kb_config
from huiyan.settlement.ledger import Cases, monthly, year_end

CFG = kb_config.load()


def _cases(rows: list[tuple]) -> Cases:
    arr = list(zip(*rows, strict=True)) if rows else [[] for _ in range(8)]
    n = len(rows)
    return Cases(
        setl_id=np.array([f"S{i}" for i in range(n)], dtype=object),
        medins_code=np.array(arr[0], dtype=object),
        case_type=np.array(["normal"] * n, dtype=object),
        standard=np.array(arr[1], dtype=np.int64),
        actual=np.array(arr[2], dtype=np.int64),
        patient=np.array(arr[3], dtype=np.int64),
        critical=np.array(arr[4], dtype=bool),
        special_review=np.array(arr[5], dtype=bool),
        new_tech=np.array(arr[6], dtype=np.int64),
        deduction=np.array(arr[7], dtype=np.int64),
    )


money = st.integers(min_value=0, max_value=50_000_000)
case = st.tuples(
    st.sampled_from(["H1", "H2", "H3"]),
    money,
    money,
    st.integers(0, 2_000_000),
    st.booleans(),
    st.booleans(),
    st.integers(0, 100_000),
    st.integers(0, 3_000_000),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(case, min_size=1, max_size=40),
    budget=st.one_of(st.none(), st.integers(0, 10**9)),
    tilt=st.floats(0, 3),
)
def test_settlement_always_reconciles_to_the_fen(rows: list[tuple], budget, tilt: float) -> None:
    cases = _cases(rows)
    cfg = {**CFG["settlement"], "fund_budget": budget}
    cfg["redistribution"] = {**cfg["redistribution"], "tilt_critical": tilt}
    ledger = year_end(cases, settlement=cfg, method="DRG")
    p = ledger.pool
    assert p["pool_in"] == p["paid_out"] + p["withheld"] + p["redistributed"]
    assert p["paid_out"] == sum(h["fund_due"] for h in ledger.hospitals)
    assert p["redistributed"] == sum(c["redistributed"] for c in ledger.cases)
    assert p["redistributed"] == sum(h["redistributed"] for h in ledger.hospitals)
    if p["redistributed"]:
        assert p["redistributed"] == p["deducted"]
    m = monthly(cases, prepay_share="0.95").pool
    assert m["pool_in"] == m["paid_out"] + m["withheld"]


def test_year_end_bands_special_review_cap_and_tilt() -> None:
    # H1: 20 cases, standard 10,000.00 each, cost 8,000.00 → surplus 20 % → keeps 15 % + half of 5 %.
    rows = [("H1", 1_000_000, 800_000, 0, i == 0, i < 3, 0, 0) for i in range(20)]
    rows[5] = ("H1", 1_000_000, 800_000, 0, False, False, 0, 100_000)  # a violation of 1,000
    rows[1] = ("H1", 1_000_000, 3_000_000, 0, False, True, 0, 0)  # largest excess: approved
    ledger = year_end(_cases(rows), settlement=CFG["settlement"], method="DRG")
    h = ledger.hospitals[0]
    states = [c["special_review"] for c in ledger.cases]
    assert states[1] == "approved" and states.count("approved") == 1  # cap 5 % of 20 = 1
    assert states.count("over_cap") == 2
    assert h["special_review_amt"] == 2_000_000
    # standard 22,000,000 fen (the approved case paid by item), cost 18,200,000: surplus
    # 3,800,000 = 17.3 %: keeps 15 % (3,300,000) and half of the other 500,000 → −250,000.
    assert h["clearing_adj"] == -250_000
    assert h["deduction"] == 100_000
    red = {c["setl_id"]: c["redistributed"] for c in ledger.cases}
    assert red["S5"] == 0 and sum(red.values()) == 100_000
    assert red["S0"] > red["S2"]  # the emergency case gets the tilt
