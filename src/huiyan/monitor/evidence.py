"""Evidence of a warning: the DRG groups and the cases that drive the deviation.

Each watched indicator is a per-case numerator over a per-case denominator (``CASE_TERMS``);
a case's excess is ``num − reference × den``. The groups with the largest summed excess and
the cases with the largest excess are named, so an auditor can open them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# indicator -> (per-case numerator, per-case denominator) as columns of the case base.
CASE_TERMS: dict[str, tuple[str, str]] = {
    "cmi": ("weight", "weighted"),
    "cost_per_case": ("cost", "one"),
    "avg_los": ("los", "one"),
    "cost_index": ("cost_ratio", "has_cost_ratio"),
    "time_index": ("los_ratio", "has_los_ratio"),
    "low_risk_mortality": ("low_risk_death", "low_risk"),
    "death_rate": ("dead", "one"),
    "readmit_15_rate": ("readmit_15", "one"),
    "readmit_31_rate": ("readmit_31", "one"),
    "high_outlier_share": ("high", "grouped"),
    "low_outlier_share": ("low", "grouped"),
    "low_standard_share": ("low_standard", "grouped"),
    "long_stay_share": ("long_stay", "one"),
    "mcc_cc_share": ("mcc_cc", "grouped"),
    "surgical_share": ("surgical", "grouped"),
    "ungroupable_share": ("ungroupable", "one"),
    "qy_share": ("qy", "one"),
    "ownpay_share": ("ownpay", "cost"),
    "personal_burden": ("burden", "cost"),
    "drug_share": ("drug_amt", "fee_amt"),
    "consumable_share": ("consumable_amt", "fee_amt"),
    "preadm_outpatient_per_case": ("pre_op", "one"),
}
# Helper columns ``prepare`` derives, and the case-base columns each is computed from.
HELPER_SOURCES: dict[str, tuple[str, ...]] = {
    "one": (),
    "weighted": ("weight",),
    "has_cost_ratio": ("cost_ratio",),
    "has_los_ratio": ("los_ratio",),
    "ungroupable": ("grouped", "qy"),
    "burden": ("cost", "fund"),
}


def prepare(cases: pd.DataFrame) -> pd.DataFrame:
    """Add the helper denominators CASE_TERMS names."""
    c = cases
    c["one"] = 1.0
    for ratio, flag in (("weight", "weighted"), ("cost_ratio", "has_cost_ratio"),
                        ("los_ratio", "has_los_ratio")):  # fmt: skip
        if ratio in c:
            c[flag] = c[ratio].notna().astype(float)
            c[ratio] = c[ratio].fillna(0.0)
    if "grouped" in c and "qy" in c:
        c["ungroupable"] = (1 - c.grouped - c.qy).astype(float)
    if "cost" in c and "fund" in c:
        c["burden"] = c.cost - c.fund
    return c


def describe(
    cases: pd.DataFrame, indicator: str, reference: float, direction: str, cfg: dict[str, Any]
) -> str:
    """'DRG组: …; 病例: …' for the cases of one subject and period."""
    terms = CASE_TERMS.get(indicator)
    if terms is None or cases.empty:
        return ""
    num, den = terms
    sign = 1.0 if direction == "up" else -1.0
    excess = sign * (cases[num].astype(float) - reference * cases[den].astype(float))
    c = cases.assign(excess=excess)
    by_drg = (
        c[c.drg.notna()]
        .groupby("drg")
        .agg(n=("setl_id", "size"), excess=("excess", "sum"))
        .sort_values(["excess", "n"], ascending=[False, False])
    )
    by_drg = by_drg[by_drg.excess > 0].head(cfg["top_groups"])
    top = c[c.excess > 0].sort_values(["excess", "setl_id"], ascending=[False, True])
    top = top.head(cfg["top_cases"])
    parts = []
    if len(by_drg):
        parts.append(
            "DRG组: "
            + ", ".join(f"{g}({int(r.n)}例,贡献{_num(r.excess)})" for g, r in by_drg.iterrows())
        )
    if len(top):
        parts.append("病例: " + ", ".join(top.setl_id.astype(str)))
    return "; ".join(parts)


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}" if np.isfinite(x) else "-"
