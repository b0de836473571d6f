"""Deviation warnings 偏离预警: against peers (robust z on median/MAD) and own history (Shewhart).

Works on the per-subject sums (small: subjects × periods), so plain pandas. A warning needs
both a statistical signal (z at or above the configured threshold) and a change worth
acting on (the indicator's ``rel`` or ``abs`` floor in ``monitor.yaml``), in the direction the
indicator watches; subjects below ``min_cases`` in the period get no warning.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# Indicators whose denominator counts cases (binomial noise); the others are means or amount
# shares, judged against the spread of the subject's monthly values or of the peers.
RATE_INDICATORS = frozenset(
    {
        "low_risk_mortality",
        "death_rate",
        "readmit_15_rate",
        "readmit_31_rate",
        "high_outlier_share",
        "low_outlier_share",
        "low_standard_share",
        "long_stay_share",
        "mcc_cc_share",
        "surgical_share",
        "ungroupable_share",
        "qy_share",
        "transfer_out_rate",
    }
)
MAD_SCALE = 0.6745  # robust z = 0.6745 (x - median) / MAD (Iglewicz-Hoaglin)
LEVEL_LABEL = {"institution": "机构", "department": "科室", "doctor": "医师"}


def frame(indicators: pd.DataFrame) -> pd.DataFrame:
    """The ``indicator`` table with the short column names used here."""
    return indicators.rename(
        columns={"numerator": "num", "denominator": "den", "cases": "n", "peer_group": "peer"}
    )


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit == "元":
        return f"{value:,.0f}元"
    return f"{value:.2f}{unit}" if unit not in ("例", "组", "条") else f"{value:.0f}{unit}"


def _watched(v: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    directions = {k: d.get("direction", "none") for k, d in cfg["indicators"].items()}
    v = v.assign(direction=v.indicator.map(directions).fillna("none"))
    v = v[v.direction != "none"].copy()
    v["sign"] = np.where(v.direction == "up", 1.0, -1.0)
    v["is_rate"] = v.indicator.isin(RATE_INDICATORS)
    return v


def _binom(value: pd.Series, p0: pd.Series, n: pd.Series) -> pd.Series:
    n = n.astype(float).where(n > 0)
    p0 = p0.clip(lower=0.5 / n, upper=1 - 0.5 / n)
    return (value - p0) / np.sqrt(p0 * (1 - p0) / n)


def _finish(
    v: pd.DataFrame, z: pd.Series, ref: pd.Series, cfg: dict[str, Any], method: str, what: pd.Series
) -> pd.DataFrame:
    """Keep rows with a signal and a change worth acting on; build the warning columns."""
    ind_cfg = cfg["indicators"]
    if v.empty:
        return pd.DataFrame()
    rel = v.indicator.map(lambda i: ind_cfg[i].get("rel", 0.0)).astype(float)
    abs_ = v.indicator.map(lambda i: ind_cfg[i].get("abs", 0.0)).astype(float)
    diff = v.sign * (v.value - ref)
    worth = (diff > 0) & (diff >= abs_) & (diff >= rel * ref.abs())
    z = z.fillna(0.0)
    # An indicator may lower its own bar (z_medium), e.g. deaths in low-risk groups.
    z_med = v.indicator.map(lambda i: ind_cfg[i].get("z_medium", cfg[method]["z_medium"]))
    sev = np.where(
        z >= cfg[method]["z_high"], "high", np.where(z >= z_med.astype(float), "medium", "")
    )
    keep = worth & (sev != "")
    v, z, ref, what, sev = v[keep], z[keep], ref[keep], what[keep], sev[keep]
    rows = []
    for r, zi, refi, w, s in zip(v.itertuples(index=False), z, ref, what, sev, strict=True):
        rows.append(_row(r, method, float(refi), float(zi), str(s), ind_cfg[r.indicator], w, None))
    return pd.DataFrame(rows)


def peer_warnings(v: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Subjects deviating from peers of the same level and type in the warn period."""
    pc = cfg["peer"]
    v = _watched(v[(v.period_type == cfg["warn_period"]) & v.value.notna()], cfg)
    v = v[v.n >= v.level.map(cfg["min_cases"]).astype(float)].copy()
    if v.empty:
        return pd.DataFrame()
    # Doctors of different specialties share a level: only case-mix adjusted indicators compare.
    v = v[(v.level != "doctor") | v.indicator.isin(pc["doctor_indicators"])].copy()
    v["pkey"] = v.peer
    m = v.level == "institution"
    v.loc[m, "pkey"] = _peer_key(v[m], v[m].groupby(["period", "indicator", "peer"]), pc)
    keys = ["level", "period", "indicator", "pkey"]
    g = v.groupby(keys)
    v["peers"] = g.value.transform("size")
    v["med"] = g.value.transform("median")
    v["absdev"] = (v.value - v.med).abs()
    v["mad"] = v.groupby(keys).absdev.transform("median")
    v["pooled"] = g.num.transform("sum") / g.den.transform("sum")
    v = v[v.peers >= pc["min_peers"]]
    # A MAD of 0 (most peers identical) leaves the binomial error alone to judge rates.
    z = (v.sign * (v.value - v.med) * MAD_SCALE / v.mad.where(v.mad > 0)).fillna(np.inf)
    zb = v.sign * _binom(v.value, v.pooled, v.den)
    z = z.where(~v.is_rate, np.minimum(z, zb.fillna(0.0)))
    what = "同级" + v.peers.astype(int).astype(str) + "个" + v.level.map(LEVEL_LABEL) + "中位数"
    return _finish(v, z, v.med, cfg, "peer", what)


def _peer_key(g: pd.DataFrame, groups: Any, pc: dict[str, Any]) -> pd.Series:
    """Institutions: same level and type, or same level when the type has too few members."""
    coarse = g.peer.str.split("-").str[0]
    size = groups.value.transform("size")
    return g.peer.where(size >= pc["min_peers"], coarse)


def history_warnings(v: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Subjects whose warn-period value leaves their own control band of earlier periods.

    Rates: p-chart against the pooled earlier periods (binomial error at this period's cases).
    Means and amount shares: x̄-chart whose per-case spread is estimated from the subject's
    earlier monthly values (sd of monthly means × √cases per month).
    """
    hc = cfg["history"]
    wp = cfg["warn_period"]
    v = _watched(v, cfg)
    key = ["level", "subject", "indicator"]
    q = v[v.period_type == wp].sort_values([*key, "period"]).copy()
    if q.empty:
        return pd.DataFrame()
    g = q.groupby(key)
    q["base_n"] = g.cumcount()
    q["base_num"] = g.num.cumsum() - q.num
    q["base_den"] = g.den.cumsum() - q.den
    q["base_val"] = (g.value.cumsum() - q.value) / q.base_n.where(q.base_n > 0)
    has_den = q.den.notna()
    q["ref"] = np.where(has_den, q.base_num / q.base_den.where(q.base_den > 0), q.base_val)
    q = q[
        (q.base_n >= hc["min_baseline_periods"])
        & (q.n >= q.level.map(cfg["min_cases"]).astype(float))
        & q.value.notna()
        & q.ref.notna()
    ].copy()
    if q.empty:
        return pd.DataFrame()
    q["first_month"] = [_first_month(p, wp) for p in q.period]
    months = v[(v.period_type == "month") & v.value.notna() & (v.n >= 5) & ~v.is_rate]
    months = months[[*key, "period", "value", "n"]].rename(columns={"period": "month"})
    means = q[~q.is_rate][[*key, "period", "first_month"]]
    j = means.merge(months, on=key)
    j = j[j.month < j.first_month]
    spread = j.groupby([*key, "period"]).agg(
        sd=("value", "std"), n_month=("n", "mean"), months=("value", "size")
    )
    q = q.merge(spread.reset_index(), on=[*key, "period"], how="left")
    sd_case = q.sd * np.sqrt(q.n_month)
    se = (sd_case / np.sqrt(q.n.astype(float))).where((q.months >= 4) & (sd_case > 0))
    z_mean = q.sign * (q.value - q.ref) / se
    z_rate = q.sign * _binom(q.value, q.ref, q.den)
    z = _overdispersion_adjusted(z_rate.where(q.is_rate, z_mean), q)
    what = "既往" + q.base_n.astype(int).astype(str) + "期"
    return _finish(q, z, q.ref, cfg, "history", what)


def _overdispersion_adjusted(z: pd.Series, q: pd.DataFrame) -> pd.Series:
    """Divide z by √φ, φ the multiplicative overdispersion of each level and indicator.

    Real subjects vary more from period to period than sampling alone explains (case-mix
    drift, seasonality); as in overdispersed funnel plots (Spiegelhalter 2005), φ is the mean of
    the squared z-scores winsorised at the 10th/90th percentiles, over all subjects judged, and
    applies only when above 1.
    """
    out = z.copy()
    for _, idx in q.groupby(["level", "indicator"]).groups.items():
        zi = z.loc[idx].dropna()
        zi = zi[np.isfinite(zi)]
        if len(zi) < 10:
            continue
        lo, hi = zi.quantile(0.1), zi.quantile(0.9)
        phi = float((zi.clip(lo, hi) ** 2).mean())
        if phi > 1:
            out.loc[idx] = z.loc[idx] / np.sqrt(phi)
    return out


def _first_month(period: str, ptype: str) -> str:
    if ptype == "quarter":
        year, q = period.split("-Q")
        return f"{year}-{(int(q) - 1) * 3 + 1:02d}"
    if ptype == "year":
        return f"{period}-01"
    return period


def _row(
    r: Any, method: str, ref: float, z: float, sev: str, ind: dict[str, Any], what: str, peer: Any
) -> dict[str, Any]:
    word = "高于" if ind["direction"] == "up" else "低于"
    zt = "∞" if not np.isfinite(z) else f"{z:.1f}"
    msg = (
        f"{LEVEL_LABEL[r.level]}{r.subject} {r.period} {ind['label']} {_fmt(r.value, ind['unit'])},"
        f"{word}{what} {_fmt(ref, ind['unit'])}(偏离Z={zt},病例{int(r.n)}例)"
    )
    return {
        "level": r.level,
        "subject": r.subject,
        "medins_code": r.medins_code,
        "indicator": r.indicator,
        "period": r.period,
        "value": float(r.value),
        "peer_value": float(ref),
        "deviation": float(min(z, 999.0)),
        "severity": sev,
        "method": method,
        "message": msg,
    }


def binom_z(value: float, p0: float, n: float) -> float:
    """z of a share ``value`` over ``n`` cases against an expected share ``p0``."""
    if not n or p0 != p0:
        return 0.0
    p0 = min(max(p0, 0.5 / n), 1 - 0.5 / n)
    return (value - p0) / float(np.sqrt(p0 * (1 - p0) / n))
