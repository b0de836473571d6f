from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from huiyan.kb import config as kb_config
from huiyan.settlement.budget import close_year, standards_at, units_of
from huiyan.settlement.ledger import Cases

CFG = kb_config.load()


def _cases(standard: list[int], actual: list[int], patient: list[int], codes: list[str]) -> Cases:
    n = len(standard)
    return Cases(
        setl_id=np.array([f"S{i}" for i in range(n)], dtype=object),
        medins_code=np.array(codes, dtype=object),
        case_type=np.array(["normal"] * n, dtype=object),
        standard=np.array(standard, dtype=np.int64),
        actual=np.array(actual, dtype=np.int64),
        patient=np.array(patient, dtype=np.int64),
        critical=np.zeros(n, dtype=bool),
        special_review=np.zeros(n, dtype=bool),
        new_tech=np.zeros(n, dtype=np.int64),
        deduction=np.zeros(n, dtype=np.int64),
    )


def _flat(budget: float | None, **rule: object) -> dict:
    # No surplus/overspend sharing, so the payout is Σ(standard − patient) and easy to hand-check.
    cfg = {**CFG["settlement"], "fund_budget": budget}
    cfg["surplus_bands"] = [{"upto": None, "hospital_share": 1.0}]
    cfg["overspend_bands"] = [{"upto": None, "fund_share": 0.0}]
    cfg["budget_closure"] = {**cfg["budget_closure"], **rule}
    return cfg


def test_point_value_is_budget_minus_items_outside_over_total_points() -> None:
    # Two DIP cases of 1,000 and 3,000 points (coefficient 1) at a provisional 10 yuan; one
    # case paid by item for 5,000. Patients pay nothing. Budget 25,000:
    # final value = (25,000 − 5,000) / 4,000 points = 5.00 yuan per point.
    units = [units_of(Decimal(1000), Decimal(1)), units_of(Decimal(3000), Decimal(1)), None]
    cases = _cases(
        [1_000_000, 3_000_000, 500_000],
        [900_000, 2_000_000, 500_000],
        [0, 0, 0],
        ["H1", "H1", "H2"],
    )
    c = close_year(cases, units, Decimal(10), settlement=_flat(25_000), method="DIP")
    # Values a millionth either side pay the same fen; the largest such value is taken.
    assert c.final is not None and abs(c.final - Decimal(5)) <= Decimal("0.000002")
    p = c.ledger.pool
    assert (p["paid_out"], p["withheld"], p["reconciled"]) == (2_500_000, 0, True)
    assert {h["medins_code"]: h["fund_due"] for h in c.ledger.hospitals} == {
        "H1": 2_000_000,
        "H2": 500_000,
    }


def test_ceiling_keeps_the_rest_of_the_budget_in_the_pool() -> None:
    units = [units_of(Decimal("1.5"), Decimal("1"))]
    cases = _cases([1_500_000], [1_500_000], [0], ["H1"])
    # Budget 30,000 would allow a rate of 20,000; the ceiling holds it at 1.0 × 10,000.
    c = close_year(
        cases, units, Decimal(10_000), settlement=_flat(30_000, ceiling=1.0), method="DRG"
    )
    assert c.final == Decimal("10000.000000")
    assert (c.ledger.pool["paid_out"], c.ledger.pool["withheld"]) == (1_500_000, 1_500_000)


def test_overspend_at_the_floor_is_shared_by_hospitals_and_shown() -> None:
    units = [units_of(Decimal(1), Decimal(1)), units_of(Decimal(1), Decimal(1))]
    cases = _cases([1_000_000, 1_000_000], [1_000_000, 1_000_000], [0, 0], ["H1", "H2"])
    # Floor 0.9 × 10,000: 18,000 due against a budget of 15,000 → 3,000 cut, 1,500 each.
    cfg = _flat(15_000, floor=0.9)
    c = close_year(cases, units, Decimal(10_000), settlement=cfg, method="DRG")
    assert c.final == Decimal("9000.000000")
    assert (c.overspend, c.shared) == (300_000, 300_000)
    assert [h["overspend_cut"] for h in c.ledger.hospitals] == [150_000, 150_000]
    assert c.ledger.pool["reconciled"] is True
    cfg["budget_closure"]["overspend"] = "none"
    c = close_year(cases, units, Decimal(10_000), settlement=cfg, method="DRG")
    assert c.ledger.pool["reconciled"] is False and c.ledger.pool["within_budget"] is False


def test_standards_round_once_at_the_fen() -> None:
    # 1.234567 × 0.9312 × 9,119.22 = 10,483.71786 → 10,483.72 = 1,048,372 fen.
    u = units_of(Decimal("1.234567"), Decimal("0.931200"))
    assert standards_at([u], np.zeros(1, dtype=np.int64), 9_119_220_000).tolist() == [1_048_372]


money = st.integers(min_value=0, max_value=5_000_000)
case = st.tuples(
    st.sampled_from(["H1", "H2", "H3"]),
    st.one_of(st.none(), st.decimals("0.1", "5", places=6)),  # weight; None: paid by item
    st.sampled_from([Decimal("0.7"), Decimal("1"), Decimal("1.1")]),
    money,
    st.integers(0, 300_000),
    st.integers(0, 300_000),
)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(case, min_size=1, max_size=25),
    budget=st.one_of(st.none(), st.integers(0, 2_000_000)),
    method=st.sampled_from(["DRG", "DIP"]),
    floor=st.sampled_from([None, 0.5, 0.9]),
    sharing=st.sampled_from(["hospitals", "none"]),
)
def test_year_end_payout_within_budget_or_shared_and_reconciled(
    rows: list[tuple], budget: int | None, method: str, floor: float | None, sharing: str
) -> None:
    value = Decimal("100")
    units = [units_of(w, c) for _h, w, c, *_ in rows]
    std = [
        int((w * c * value * 100).to_integral_value()) if w is not None else a
        for _h, w, c, a, *_ in rows
    ]
    cases = _cases(std, [r[3] for r in rows], [r[4] for r in rows], [r[0] for r in rows])
    cases.deduction[:] = [r[5] for r in rows]
    cfg = {**CFG["settlement"], "fund_budget": budget}
    cfg["budget_closure"] = {**cfg["budget_closure"], "floor": floor, "overspend": sharing}
    c = close_year(cases, units, value, settlement=cfg, method=method)
    p = c.ledger.pool
    assert p["pool_in"] == p["paid_out"] + p["withheld"] + p["redistributed"]
    assert p["paid_out"] == sum(h["fund_due"] for h in c.ledger.hospitals)
    if budget is None:
        return
    outflow = p["paid_out"] + p["redistributed"]
    if outflow <= budget * 100:
        assert p["reconciled"] is True
        assert c.overspend == 0 or c.shared == c.overspend
    else:
        # Only possible when the floor (or items outside) overspend and sharing is off or
        # cannot cover it; then the run must say so.
        assert p["reconciled"] is False and p["within_budget"] is False
        assert c.overspend > 0 and c.ledger.notes
