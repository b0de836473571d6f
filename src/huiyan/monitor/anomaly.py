"""Statistical anomaly models beyond the thresholds.

1. Case cost within its DRG: robust log-cost score z = 0.6745 (ln cost − median) / MAD over
   the region's cases of the group (Ibis). A subject warns when its share of anomalous cases
   is well above the region's (ratio and binomial z in ``monitor.yaml``).
2. An IsolationForest (scikit-learn) over subject-period indicator vectors, each feature
   robust-standardised against the level's median/MAD; a flagged vector must also deviate
   strongly on at least one feature, and the features that deviate most explain it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from huiyan.monitor.warnings import LEVEL_LABEL, MAD_SCALE, binom_z

if TYPE_CHECKING:
    import ibis.expr.types as ir


def case_cost_scores(c: ir.Table, cfg: dict[str, Any]) -> ir.Table:
    """Per grouped case: its robust log-cost z within the DRG (null when the group is small)."""
    g = c.filter((c.grouped == 1) & (c.cost > 0)).mutate(lc=c.cost.ln())
    med = g.group_by(m_drg=g.drg).aggregate(med=g.lc.median(), n_g=g.count())
    j = g.inner_join(med, g.drg == med.m_drg)
    j = j.mutate(ad=(j.lc - j.med).abs())
    mad = j.group_by(a_drg=j.drg).aggregate(mad=j.ad.median())
    j = j.inner_join(mad, j.drg == mad.a_drg)
    ok = (j.n_g >= cfg["min_group_cases"]) & (j.mad > 0)
    return j.select(
        "setl_id",
        "medins_code",
        "dept",
        "doctor",
        "quarter",
        "month",
        "year",
        "drg",
        "cost",
        z=ibis.ifelse(ok, MAD_SCALE * (j.lc - j.med) / j.mad, ibis.null("float64")),
    )


def case_cost_counts(scores: ir.Table, z: float, period: str) -> tuple[ir.Table, ir.Table]:
    """Scored and anomalous case counts per institution/doctor and period, and the anomalous
    cases themselves (the only case rows that leave the engine)."""
    s = scores.filter(scores.z.notnull()).mutate(anom=ibis.ifelse(scores.z >= z, 1, 0))
    parts = []
    for level, col in (("institution", "medins_code"), ("doctor", "doctor")):
        parts.append(
            s.group_by(subject=s[col], period=s[period])
            .aggregate(n=s.count(), k=s.anom.sum())
            .mutate(level=ibis.literal(level))
        )
    anomalous = s.filter(s.anom == 1).select(
        "setl_id", "medins_code", "doctor", "drg", "z", period=s[period]
    )
    return ibis.union(*parts, distinct=False), anomalous


def case_cost_warnings(
    counts: pd.DataFrame, anomalous: pd.DataFrame, cfg: dict[str, Any], min_cases: dict[str, int]
) -> pd.DataFrame:
    """Subjects with an excess of cost-anomalous cases in the warn period (high side only)."""
    a = cfg["case_cost"]
    if counts.empty:
        return pd.DataFrame()
    region = counts[counts.level == "institution"].groupby("period")[["n", "k"]].sum()
    p0 = counts.period.map(region.k / region.n).astype(float)
    c = counts.assign(p0=p0, share=counts.k / counts.n)
    c = c[
        (c.n >= c.level.map(min_cases).astype(float))
        & (c.k >= a["min_cases"])
        & (c.p0 > 0)
        & (c.share >= a["excess_ratio"] * c.p0)
    ]
    rows = []
    for r in c.itertuples(index=False):
        z = binom_z(r.share, r.p0, r.n)
        if z < a["z_share"]:
            continue
        col = "medins_code" if r.level == "institution" else "doctor"
        top = anomalous[(anomalous[col] == r.subject) & (anomalous.period == r.period)]
        top = top.nlargest(10, "z")
        drgs = top.drg.value_counts().head(3)
        rows.append(
            {
                "level": r.level,
                "subject": r.subject,
                "medins_code": top.medins_code.iloc[0],
                "indicator": "case_cost_anomaly",
                "period": r.period,
                "value": r.share,
                "peer_value": r.p0,
                "deviation": z,
                "severity": "medium",
                "method": "anomaly",
                "message": (
                    f"{LEVEL_LABEL[r.level]}{r.subject} {r.period} 组内费用异常病例 {int(r.k)} 例,"
                    f"占 {r.share:.1%},全市 {r.p0:.1%}(组内对数费用稳健评分≥{a['z']},"
                    f"超出倍数 {r.share / r.p0:.1f})"
                ),
                "evidence": "DRG组: "
                + ", ".join(f"{g}({n_}例)" for g, n_ in drgs.items())
                + "; 病例: "
                + ", ".join(f"{r2.setl_id}(z={r2.z:.1f})" for r2 in top.itertuples()),
            }
        )
    return pd.DataFrame(rows)


def isolation_warnings(
    values: pd.DataFrame, cfg: dict[str, Any], labels: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """IsolationForest over subject × period vectors of the configured indicators."""
    from sklearn.ensemble import IsolationForest

    f = cfg["isolation_forest"]
    rows = []
    v = values[(values.period_type == cfg["warn_period"]) & values.indicator.isin(f["features"])]
    for level in f["levels"]:
        # A vector of noisy small-sample rates is not anomalous: IF needs steadier subjects.
        lv = v[(v.level == level) & (v.n >= f["min_cases_factor"] * cfg["min_cases"][level])]
        x = lv.pivot_table(
            index=["subject", "medins_code", "period"], columns="indicator", values="value"
        )
        x = x.dropna(axis=1, how="all")
        if len(x) < 20 or x.shape[1] < 2:
            continue
        x = x.fillna(x.median())
        med = x.median()
        mad = (x - med).abs().median().replace(0, np.nan)
        scale = (mad / MAD_SCALE).fillna(x.std().replace(0, np.nan)).fillna(1.0)
        z = (x - med) / scale
        model = IsolationForest(
            n_estimators=f["n_estimators"],
            contamination=f["contamination"],
            random_state=f["random_state"],
        )
        flagged = model.fit(z.to_numpy()).predict(z.to_numpy()) == -1
        score = -model.score_samples(z.to_numpy())
        for i in np.flatnonzero(flagged):
            zi = z.iloc[i]
            top = zi.abs().sort_values(ascending=False).head(3)
            if top.iloc[0] < f["min_feature_z"]:
                continue
            subject, medins, period = x.index[i]
            drivers = ", ".join(
                f"{labels[k]['label']} {_show(x.iloc[i][k], labels[k])}"
                f"(中位数 {_show(med[k], labels[k])}, z={zi[k]:.1f})"
                for k in top.index
            )
            rows.append(
                {
                    "level": level,
                    "subject": subject,
                    "medins_code": medins,
                    "indicator": "isolation_forest",
                    "period": period,
                    "value": float(score[i]),
                    "peer_value": float(np.median(score)),
                    "deviation": float(top.iloc[0]),
                    "severity": "low",
                    "method": "anomaly",
                    "message": (
                        f"{LEVEL_LABEL[level]}{subject} {period} 指标组合异常(孤立森林异常分 "
                        f"{score[i]:.2f}),主要由: {drivers}"
                    ),
                    "evidence": "特征: " + drivers,
                }
            )
    return pd.DataFrame(rows)


def _show(value: float, label: dict[str, Any]) -> str:
    return f"{value * 100:.1f}%" if label.get("unit") == "%" else f"{value:.2f}"
