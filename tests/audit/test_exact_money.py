"""Money is exact end to end (issue 20): thresholds at their boundary, averages rounded once.

Each case sits exactly where a double decides differently from the decimal the bureau means:
1000.50 × 0.4 is 400.20000000000005 as doubles (so a cost of 400.20 was "below 40 %"), and
the mean 1.005 is 1.00499999... as a double (so it was shown as 1.0), and 100 / 3 × 0.45 is
15.000000000000002 (so a stay of 15 days was "below 45 %" of an average of 33⅓). Each boundary
case has its neighbour one fen or one day further, found on both sides of the change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from huiyan.audit import engine
from huiyan.audit.inputs import bind, store_source
from huiyan.engine import Store
from huiyan.kb import config

from .casefile import load_case

EXAM = {"feedetl_sn": "1", "med_list_codg": "002101020010000", "med_chrgitm_type": "03"}
BED = {"feedetl_sn": "2", "med_list_codg": "001109000010000", "med_chrgitm_type": "01"}
GROUPED = [{"drg": "ES35", "adrg": "ES3", "mdc": "E"}, {"setl_id": "S2", "drg": "ES35"}]
SHORT = {"dscg_time": "2025-01-03 10:00:00"}


def _findings(
    tmp_path: Path, rule_id: str, case: dict[str, Any], **params: Any
) -> list[dict[str, Any]]:
    cfg = config.load()
    cfg["audit"]["rules"][rule_id]["params"].update(params)
    with Store(tmp_path / "case.duckdb") as store:
        load_case(store, case)
        source = store_source(store)
        source.cache = lambda t: t
        inputs = bind(source, cfg)
        try:
            result = engine.run(inputs, cfg["audit"], stage="post", only=[rule_id])
        finally:
            inputs.release()
    return result.findings.to_pylist()


def _short_exam_stay(cost: str, other: str, **tables: Any) -> dict[str, Any]:
    """S1: a 2-day stay of exams (75 %) costing ``cost``; S2 of the same DRG costing ``other``."""
    return {
        "setl_list": [
            {**SHORT, "medfee_sumamt": Decimal(cost)},
            {"setl_id": "S2", "psn_no": "P2", "medfee_sumamt": Decimal(other)},
        ],
        "drg_result": [{**GROUPED[0]}, {**GROUPED[0], **GROUPED[1]}],
        "feedetail": [{**EXAM, "pric": 300}, {**BED, "pric": 100}],
        **tables,
    }


@pytest.mark.parametrize(("cost", "found"), [("400.20", False), ("400.19", True)])
def test_cost_exactly_at_the_ratio_of_a_published_average_is_not_below_it(
    tmp_path: Path, cost: str, found: bool
) -> None:
    # The bureau's average 1000.50: 40 % of it is 400.20, and 400.20 is not below 400.20.
    weight = [{"scheme": "chs-drg-1.1", "drg": "ES35", "weight": 1.0, "avg_cost": "1000.50"}]
    case = _short_exam_stay(cost, "5000", drg_weight=weight)
    got = _findings(tmp_path, "LOWADM-002", case)
    assert [(f["setl_id"], f["vola_amt"]) for f in got] == (
        [("S1", Decimal(cost))] if found else []
    )


@pytest.mark.parametrize(("cost", "found"), [("400.16", False), ("400.15", True)])
def test_cost_exactly_at_the_ratio_of_a_derived_average_is_not_below_it(
    tmp_path: Path, cost: str, found: bool
) -> None:
    # Mean of 400.16 and 1600.64 = 1000.40, 40 % of it 400.16 (as doubles 400.1600000000001);
    # 400.15: mean 1000.395, 1000.40 at the fen.
    got = _findings(tmp_path, "LOWADM-002", _short_exam_stay(cost, "1600.64"))
    assert [f["setl_id"] for f in got] == (["S1"] if found else [])


def test_exam_share_exactly_at_the_minimum_counts_and_is_shown_exactly(tmp_path: Path) -> None:
    # 91.21 of 130.30 is exactly 70 %; 0.1 + 0.2 as line prices (a double sum 0.30000000000000004).
    case = _short_exam_stay("130.60", "5000")
    case["feedetail"] = [
        {**EXAM, "pric": Decimal("91.21")},
        {**BED, "pric": Decimal("38.79")},
        {**BED, "feedetl_sn": "3", "pric": Decimal("0.1")},
        {**BED, "feedetl_sn": "4", "pric": Decimal("0.2")},
    ]
    got = _findings(tmp_path, "LOWADM-002", case)
    assert [(f["setl_id"], f["vola_cont"]) for f in got] == [
        ("S1", "住院2天, 检查检验费用占70%, 无治疗")
    ]


def test_derived_average_cost_is_rounded_once_half_up_at_the_fen(tmp_path: Path) -> None:
    # Mean of 0.01 and 2.00 = 1.005 exactly: 1.01 at the fen (the double 1.005 rounds to 1.0).
    case = {
        "setl_list": [
            {"dscg_time": "2025-01-02 10:00:00", "medfee_sumamt": Decimal("0.01")},
            {
                "setl_id": "S2",
                "psn_no": "P2",
                "dscg_time": "2025-01-21 10:00:00",
                "medfee_sumamt": Decimal("2.00"),
            },
        ],
        "drg_result": [
            {"drg": "ES23", "adrg": "ES2", "mdc": "E"},
            {"setl_id": "S2", "drg": "ES23", "adrg": "ES2", "mdc": "E"},
        ],
        "feedetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": "XJ01DDC016B001010100789",
                "med_chrgitm_type": "09",
                "pric": Decimal("0.01"),
            }
        ],
    }
    got = _findings(tmp_path, "UNDERSVC-003", case, min_cases=2)
    assert [(f["setl_id"], f["vola_amt"], f["vola_cont"]) for f in got] == [
        (
            "S1",
            Decimal("1.00"),
            "ES23组: 住院1天(本地区组均10.5天), 费用0.01元(组均1.01元), 提前出院",
        )
    ]


@pytest.mark.parametrize(("los", "found"), [(15, False), (14, True)])
def test_stay_exactly_at_the_ratio_of_the_average_stay_is_not_below_it(
    tmp_path: Path, los: int, found: bool
) -> None:
    # Stays of the group sum to 100 days over 3 cases: 45 % of the average is exactly 15 days
    # (as doubles 100 / 3 × 0.45 = 15.000000000000002).
    def discharged(days: int) -> str:
        return str(datetime(2025, 1, 1, 10) + timedelta(days=days))

    others = [(f"S{i}", days) for i, days in ((2, 43), (3, 100 - 43 - los))]
    case = {
        "setl_list": [
            {"dscg_time": discharged(los), "medfee_sumamt": 100},
            *[
                {
                    "setl_id": s,
                    "psn_no": f"P{s[1:]}",
                    "dscg_time": discharged(d),
                    "medfee_sumamt": 5000,
                }
                for s, d in others
            ],
        ],
        "drg_result": [
            {"setl_id": s, "drg": "ES23", "adrg": "ES2", "mdc": "E"} for s in ("S1", "S2", "S3")
        ],
        "feedetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": "XJ01DDC016B001010100789",
                "pric": 15,
                "med_chrgitm_type": "09",
            }
        ],
    }
    got = _findings(tmp_path, "UNDERSVC-003", case, min_cases=2, max_los_ratio=0.45)
    assert [f["setl_id"] for f in got] == (["S1"] if found else [])
