"""DRG relative weights from history (测算): trimming, year weighting, stable groups.

``derive_weights`` is one set-based expression: trim each group's costs (configurable method),
take the year-weighted mean per group and over all kept cases, divide. A region's published
``drg_weight`` rows win over the derived weight of the same DRG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from huiyan.errors import ConfigurationError
from huiyan.model.tables import DRG_WEIGHT
from huiyan.pricing.cases import year_weight
from huiyan.pricing.formulas import relative_weight

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

TRIM_METHODS = ("iqr", "sd_log", "percentile", "none")


def trim(cases: ir.Table, key: str, params: dict[str, Any]) -> ir.Table:
    """Keep the cases of each ``key`` group inside the configured cost band (裁剪, §1.2)."""
    method = params["method"]
    if method not in TRIM_METHODS:
        raise ConfigurationError(
            f"payment.drg.trim.method: {method!r} 不是可用的裁剪方法 ({', '.join(TRIM_METHODS)})"
        )
    if method == "none":
        return cases
    if method == "sd_log":
        stats = cases.group_by(key).aggregate(
            _mu=cases.cost.log().mean(), _sd=cases.cost.log().std(how="pop")
        )
        j = cases.join(stats, key)
        x = j.cost.log()
        k = float(params["sd"])
        keep = (j._sd.isnull()) | ((x - j._mu).abs() <= k * j._sd)
        return j.filter(keep).drop("_mu", "_sd")
    if method == "iqr":
        stats = cases.group_by(key).aggregate(
            _q1=cases.cost.quantile(0.25), _q3=cases.cost.quantile(0.75)
        )
        j = cases.join(stats, key)
        iqr = j._q3 - j._q1
        lo = j._q1 - float(params["iqr_low"]) * iqr
        hi = j._q3 + float(params["iqr_high"]) * iqr
    else:
        stats = cases.group_by(key).aggregate(
            _q1=cases.cost.quantile(float(params["percentile_low"])),
            _q3=cases.cost.quantile(float(params["percentile_high"])),
        )
        j = cases.join(stats, key)
        lo, hi = j._q1, j._q3
    return j.filter((j.cost >= lo) & (j.cost <= hi)).drop("_q1", "_q3")


def weighted_group_means(cases: ir.Table, key: str, latest: int, weights: list[float]) -> ir.Table:
    """Per ``key``: Σ_y w_y·mean_y / Σ_y w_y over the years present (1:2:7, §2.2)."""
    per_year = cases.group_by([key, "year"]).aggregate(_m=cases.cost.mean(), _n=cases.count())
    per_year = per_year.mutate(_w=year_weight(per_year.year, latest, weights))
    per_year = per_year.filter(per_year._w > 0)
    return per_year.group_by(key).aggregate(
        wmean=(per_year._m * per_year._w).sum() / per_year._w.sum()
    )


def grand_mean(cases: ir.Table, latest: int, weights: list[float]) -> ir.Table:
    """The year-weighted mean cost of all ``cases`` as a one-row table (column ``grand``)."""
    one = cases.mutate(_all=ibis.literal("*"))
    return weighted_group_means(one, "_all", latest, weights).select(grand="wmean")


def derive_weights(
    history: ir.Table, *, latest: int, weights: list[float], params: dict[str, Any]
) -> ir.Table:
    """Relative weight, counts, CV and stability per DRG from grouped in-scope ``history``.

    ``history`` needs columns drg, cost, year. Groups and the grand mean are both computed on
    the trimmed cases (§1.2: trim within each group, then recompute both means).
    """
    counts = history.group_by("drg").aggregate(n_cases=history.count())
    kept = trim(history, "drg", params["trim"])
    stats = kept.group_by("drg").aggregate(
        n_used=kept.count(), _mean=kept.cost.mean(), _sd=kept.cost.std(how="pop")
    )
    means = weighted_group_means(kept, "drg", latest, weights)
    grand = grand_mean(kept, latest, weights)
    out = counts.left_join(stats, "drg").drop("drg_right")
    out = out.left_join(means, "drg").drop("drg_right").cross_join(grand)
    cv = out._sd / out._mean
    stable = (out.n_cases >= int(params["min_cases"])) & (
        cv.fill_null(0) <= float(params["max_cv"])
    )
    return out.select(
        "drg",
        "n_cases",
        n_used=out.n_used.fill_null(0),
        mean_cost=out.wmean.round(2).cast("decimal(16, 2)"),
        cv=cv,
        stable=stable.fill_null(False),
        weight=relative_weight(out.wmean, out.grand),
        source=ibis.literal("derived"),
    )


def apply_published(store: Engine, derived: ir.Table, scheme: str) -> ir.Table:
    """Published ``drg_weight`` rows of ``scheme`` replace derived weights (stable by decree)."""
    pub = store.table(DRG_WEIGHT.name)
    pub = pub.filter(pub.scheme == scheme).select(
        "drg", _pw="weight", _pc=pub.avg_cost.cast("decimal(16, 2)")
    )
    j = derived.outer_join(pub, "drg")
    has_pub = j._pw.notnull()
    return j.select(
        drg=ibis.coalesce(j.drg, j.drg_right),
        n_cases=j.n_cases.fill_null(0),
        n_used=j.n_used.fill_null(0),
        mean_cost=ibis.coalesce(j._pc, j.mean_cost),
        cv=j.cv,
        stable=has_pub | j.stable.fill_null(False),
        weight=ibis.coalesce(j._pw, j.weight),
        source=ibis.ifelse(has_pub, "published", j.source),
    )
