"""Every indicator on the hand-built fixture, against values computed by hand."""

from __future__ import annotations

import math

import pytest
from tests.monitor import fixture

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.monitor.api import indicator_table
from huiyan.monitor.cases import store_inputs

# Institution H1, March 2025 (cases S1-S4; norms: EB15 cost 1000 / LOS 4, ER23 cost 1600 / LOS 11).
INSTITUTION = {
    "cases": 4,
    "drg_groups": 2,
    "total_weight": 4.0,
    "cmi": 4.0 / 3,
    "cost_per_case": 4700 / 4,
    "avg_los": (4 + 2 + 20 + 1) / 4,
    "cost_index": (1000 / 1000 + 200 / 1600 + 3000 / 1600) / 3,
    "time_index": (4 / 4 + 2 / 11 + 20 / 11) / 3,
    "low_risk_mortality": 0.0,  # EB15 has no death: low risk; S1 survived
    "death_rate": 1 / 4,
    "readmit_15_rate": 1 / 4,  # S1 discharged 03-05, S2 admitted 03-10
    "readmit_31_rate": 1 / 4,
    "high_outlier_share": 1 / 3,
    "low_outlier_share": 1 / 3,
    "low_standard_share": 1 / 3,  # S2: 2 days, 200 < 0.4 × 1600
    "long_stay_share": 0.0,
    "mcc_cc_share": 2 / 3,  # ER23 (S2, S3) ends in 3: an MCC/CC group; EB15 does not
    "surgical_share": 1 / 3,  # EB15: ADRG letter B (surgical)
    "ungroupable_share": 1 / 4,
    "qy_share": 0.0,
    "transfer_out_rate": 0.0,
    "ownpay_share": 400 / 4700,
    "personal_burden": (4700 - 3250) / 4700,
    "fund_pay_ratio": 3250 / 4700,
    "drug_share": 500 / 4200,
    "consumable_share": 100 / 4200,
    "payment_balance": (2200 - 4200) / 4200,
    "findings_per_100": 3 * 100 / 4,
    "finding_amt_per_100": 350 * 100 / 4,
    "confirmed_amt_per_100": 250 * 100 / 4,  # sev_deg 1 findings without a review table
    "violation_share": 350 / 3250,
}


@pytest.fixture(scope="module")
def values(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], float]:
    cfg = config.load(None)
    cfg["monitor"]["low_risk"]["min_group_cases"] = 1
    with Store(tmp_path_factory.mktemp("fx") / "fx.duckdb") as store:
        fixture.load(store)
        table = indicator_table(store_inputs(store, cfg), cfg["monitor"]).to_pylist()
    return {(r["subject"], r["period"], r["indicator"]): r["value"] for r in table}


@pytest.mark.parametrize("name", sorted(INSTITUTION))
def test_institution_indicator(values: dict, name: str) -> None:
    got = values[("H1", "2025-03", name)]
    assert got is not None and math.isclose(got, INSTITUTION[name], rel_tol=1e-9), (name, got)


def test_department_indices(values: dict) -> None:
    # Department A01 (S1, S2): cost ratios 1 and 0.125, LOS ratios 1 and 2/11.
    assert math.isclose(values[("H1/A01", "2025-03", "cost_index")], (1 + 0.125) / 2)
    assert math.isclose(values[("H1/A01", "2025-03", "time_index")], (1 + 2 / 11) / 2)
    # Doctor D2 (S3 died, S4 ungroupable): one grouped case, a high outlier.
    assert values[("H1/D2", "2025-03", "death_rate")] == 0.5
    assert values[("H1/D2", "2025-03", "high_outlier_share")] == 1.0


def test_periods_aggregate_the_same_cases(values: dict) -> None:
    for period in ("2025-Q1", "2025"):
        assert math.isclose(values[("H1", period, "cmi")], 4.0 / 3)
        assert values[("H1", period, "cases")] == 4


def test_outpatient_spending_around_stays(tmp_path) -> None:
    cfg = config.load(None)
    with Store(tmp_path / "op.duckdb") as store:
        fixture.load(store)
        fixture.load_outpatient(store)
        rows = indicator_table(store_inputs(store, cfg), cfg["monitor"]).to_pylist()
    got = {r["indicator"]: r for r in rows if r["subject"] == "H1" and r["period"] == "2025-03"}
    # 80 (02-27, before S1) + 40 (03-08, before S2); 500 on 02-01 is a month before S3.
    pre = got["preadm_outpatient_per_case"]
    assert (pre["numerator"], pre["denominator"]) == (80 + 40, 4)
    # 40 on 03-08 is 3 days after S1's discharge.
    assert got["postdscg_outpatient_per_case"]["numerator"] == 40


def test_confirmed_amounts_come_from_review_decisions_when_given(tmp_path) -> None:
    import pyarrow as pa

    from huiyan.monitor.cases import case_base, confirmed_amounts

    cfg = config.load(None)
    decided = pa.table(
        {"setl_id": ["S3"], "vola_amt": [pa.scalar(120, pa.decimal128(16, 2)).as_py()]}
    )
    with Store(tmp_path / "rv.duckdb") as store:
        fixture.load(store)
        inp = store_inputs(store, cfg, decided)
        assert confirmed_amounts(inp)[1] == "review"
        got = case_base(inp, cfg["monitor"]).select("setl_id", "confirmed_amt").to_pyarrow()
    assert dict(zip(*got.to_pydict().values(), strict=True)) == {
        "S1": 0.0, "S2": 0.0, "S3": 120.0, "S4": 0.0,
    }  # fmt: skip
