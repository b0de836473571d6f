"""Effect evaluation 效果评估: monthly series region-wide and per institution.

Read from the ``indicator`` table: every indicator is Σ numerator / Σ denominator, so the
region's value is the ratio of the institutions' summed numerators and denominators.
"""

from __future__ import annotations

import pandas as pd

SERIES: dict[str, str] = {
    "violation_share": "违规金额占基金支付比",
    "confirmed_amt": "确认扣减金额(元)",
    "cmi": "CMI",
    "cost_per_case": "次均费用(元)",
    "personal_burden": "个人负担率",
}
REGION = "全市"


def series(indicators: pd.DataFrame) -> pd.DataFrame:
    """Columns scope (``全市`` or a medins_code), period (YYYY-MM), indicator, value."""
    m = indicators[(indicators.level == "institution") & (indicators.period_type == "month")]
    src = {k: ("confirmed_amt_per_100" if k == "confirmed_amt" else k) for k in SERIES}
    m = m[m.indicator.isin(set(src.values()))]
    rows = []
    for name, ind in src.items():
        d = m[m.indicator == ind]
        if name == "confirmed_amt":
            # numerator of confirmed_amt_per_100 is 100 × the amount
            inst = d.assign(value=d.numerator / 100)[["medins_code", "period", "value"]]
            reg = inst.groupby("period", as_index=False)[["value"]].sum()
        else:
            inst = d[["medins_code", "period", "value"]]
            g = d.groupby("period", as_index=False)[["numerator", "denominator"]].sum()
            reg = g.assign(value=g.numerator / g.denominator.where(g.denominator != 0))
        rows.append(inst.rename(columns={"medins_code": "scope"}).assign(indicator=name))
        rows.append(reg[["period", "value"]].assign(scope=REGION, indicator=name))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if out.empty:
        return pd.DataFrame(columns=["scope", "period", "indicator", "value"])
    return out[["scope", "period", "indicator", "value"]].sort_values(
        ["indicator", "scope", "period"], ignore_index=True
    )
