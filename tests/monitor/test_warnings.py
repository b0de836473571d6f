"""Deviation warnings on hand-built indicator values: peers, own history, floors, evidence."""

from __future__ import annotations

import pandas as pd

from huiyan.kb import config
from huiyan.monitor import evidence
from huiyan.monitor.api import cost_shift_warnings
from huiyan.monitor.warnings import history_warnings, peer_warnings


def _cfg() -> dict:
    return config.load(None)["monitor"]


def _row(subject, period, indicator, num, den, n, ptype="quarter", level="institution"):
    return {
        "level": level,
        "subject": subject,
        "medins_code": subject.split("/")[0],
        "peer": "3-general",
        "period_type": ptype,
        "period": period,
        "indicator": indicator,
        "num": float(num),
        "den": float(den) if den is not None else None,
        "value": num / den if den else float(num),
        "n": n,
    }


def test_peer_warning_names_the_deviating_institution_only() -> None:
    # Ten peers with readmission 2-3 % of 400 cases; H9 at 12 %.
    rows = [_row(f"H{i}", "2025-Q3", "readmit_15_rate", 8 + i % 3, 400, 400) for i in range(9)]
    rows.append(_row("H9", "2025-Q3", "readmit_15_rate", 48, 400, 400))
    w = peer_warnings(pd.DataFrame(rows), _cfg())
    assert list(w.subject) == ["H9"]
    r = w.iloc[0]
    assert r.method == "peer" and r.severity == "high"
    assert r.peer_value == 9 / 400  # the peers' median
    assert "15天再入院率 12.0%" in r.message and "同级10个机构中位数 2.2%" in r.message


def test_peer_warning_needs_enough_cases_and_enough_peers() -> None:
    cfg = _cfg()
    rows = [_row(f"H{i}", "2025-Q3", "readmit_15_rate", 8, 400, 400) for i in range(9)]
    rows.append(_row("H9", "2025-Q3", "readmit_15_rate", 12, 30, 30))  # 40 % of only 30 cases
    assert peer_warnings(pd.DataFrame(rows), cfg).empty
    few = [_row(f"H{i}", "2025-Q3", "readmit_15_rate", 8, 400, 400) for i in range(3)]
    few.append(_row("H9", "2025-Q3", "readmit_15_rate", 80, 400, 400))
    assert peer_warnings(pd.DataFrame(few), cfg).empty  # 4 < min_peers


def test_indicators_without_a_direction_never_warn() -> None:
    rows = [_row(f"H{i}", "2025-Q3", "cases", 400, None, 400) for i in range(9)]
    rows.append(_row("H9", "2025-Q3", "cases", 4000, None, 4000))  # volume growth: not a warning
    assert peer_warnings(pd.DataFrame(rows), _cfg()).empty


def test_history_rate_chart_warns_from_the_period_the_rate_jumps() -> None:
    rows = [
        _row("H1", "2025-Q1", "mcc_cc_share", 40, 400, 400),
        _row("H1", "2025-Q2", "mcc_cc_share", 44, 400, 400),
        _row("H1", "2025-Q3", "mcc_cc_share", 42, 400, 400),
        _row("H1", "2025-Q4", "mcc_cc_share", 100, 400, 400),
    ]
    w = history_warnings(pd.DataFrame(rows), _cfg())
    assert list(w.period) == ["2025-Q4"]
    assert abs(w.iloc[0].peer_value - 126 / 1200) < 1e-12  # pooled earlier quarters
    assert "既往3期" in w.iloc[0].message


def test_history_mean_chart_uses_the_spread_of_monthly_values() -> None:
    months = [f"2025-{m:02d}" for m in range(1, 10)]
    los = [8.0, 8.4, 7.8, 8.1, 8.3, 7.9, 8.2, 8.0, 8.1]
    rows = [
        _row("H1", p, "avg_los", v * 100, 100, 100, ptype="month")
        for p, v in zip(months, los, strict=False)
    ]
    quarters = {"2025-Q1": 8.07, "2025-Q2": 8.1, "2025-Q3": 8.1, "2025-Q4": 10.5}
    rows += [_row("H1", q, "avg_los", v * 300, 300, 300) for q, v in quarters.items()]
    w = history_warnings(pd.DataFrame(rows), _cfg())
    assert list(w.period) == ["2025-Q4"] and w.iloc[0].indicator == "avg_los"
    # A 2 % rise is below the 15 % floor even if statistically clear.
    rows[-1] = _row("H1", "2025-Q4", "avg_los", 8.25 * 300, 300, 300)
    assert history_warnings(pd.DataFrame(rows), _cfg()).empty


def test_evidence_names_the_groups_and_cases_that_drive_a_rate() -> None:
    cases = pd.DataFrame(
        {
            "setl_id": ["A", "B", "C", "D"],
            "drg": ["ES23", "ES23", "GB11", "GB11"],
            "mcc_cc": [1, 1, 1, 0],
            "grouped": [1, 1, 1, 1],
        }
    )
    text = evidence.describe(cases, "mcc_cc_share", 0.25, "up", {"top_groups": 3, "top_cases": 10})
    assert text == "DRG组: ES23(2例,贡献1.50), GB11(2例,贡献0.50); 病例: A, B, C"


def test_cost_shift_warns_when_outpatient_rises_and_inpatient_falls() -> None:
    rows = []
    for q, pre, cost in (("2025-Q1", 100, 9000), ("2025-Q2", 110, 9100), ("2025-Q3", 200, 8000)):
        rows.append(_row("H1", q, "preadm_outpatient_per_case", pre * 100, 100, 100))
        rows.append(_row("H1", q, "cost_per_case", cost * 100, 100, 100))
        rows.append(_row("H2", q, "preadm_outpatient_per_case", pre * 100, 100, 100))
        rows.append(_row("H2", q, "cost_per_case", 9000 * 100, 100, 100))  # inpatient steady
    rows = [r | {"n": 100} for r in rows]
    w = cost_shift_warnings(pd.DataFrame(rows), _cfg())
    assert list(w.subject) == ["H1"] and list(w.period) == ["2025-Q3"]
    assert "入院前7天门诊费用每例 200元" in w.iloc[0].message
