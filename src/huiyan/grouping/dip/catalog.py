"""Build a DIP catalog from history (§2.1–2.2): core and comprehensive packets with scores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from huiyan.grouping.dip.features import case_features, comprehensive_key, core_key
from huiyan.model.tables import CASE_SCOPE, MEDINS, SETL_LIST

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine


def history_cases(store: Engine) -> ir.Table:
    """In-scope settlements with cost (float), discharge year and institution level."""
    s = store.table(SETL_LIST.name)
    m = store.table(MEDINS.name).select("medins_code", "medins_lv")
    m = m.distinct(on="medins_code", keep="first")
    sc = store.table(CASE_SCOPE.name).select("setl_id", "in_scope")
    sc = sc.distinct(on="setl_id", keep="first")
    t = s.select(
        "setl_id",
        "medins_code",
        cost=s.medfee_sumamt.cast("float64"),
        year=s.dscg_time.year().cast("int32"),
    )
    t = t.left_join(m, "medins_code").drop("medins_code_right")
    t = t.left_join(sc, "setl_id").drop("setl_id_right")
    return t.filter(t.in_scope.fill_null(True)).drop("in_scope")


def _year_weight(year: ir.IntegerValue, latest: int, weights: list[float]) -> ir.FloatingValue:
    n = len(weights)
    return ibis.cases(
        *[(year == latest - (n - 1 - i), float(w)) for i, w in enumerate(weights)], else_=0.0
    )


def _weighted_means(t: ir.Table, keys: list[str], latest: int, weights: list[float]) -> ir.Table:
    per_year = t.group_by([*keys, "year"]).aggregate(_m=t.cost.mean())
    per_year = per_year.mutate(_w=_year_weight(per_year.year, latest, weights))
    per_year = per_year.filter(per_year._w > 0)
    return per_year.group_by(keys).aggregate(
        wmean=(per_year._m * per_year._w).sum() / per_year._w.sum()
    )


def build_catalog(
    store: Engine,
    params: dict[str, Any],
    *,
    scheme: str,
    year_weights: list[float],
) -> ir.Table:
    """The ``dip_catalog`` rows derived from the stored history.

    Core packets: diagnosis subcategory + procedure combination with at least
    ``core_min_cases`` cases over all years; the rest collapse by category + procedure type.
    Score = year-weighted packet mean / year-weighted mean of all cases × ``score_scale``;
    ``ref_cost_lv*`` = the packet's mean cost in the latest year at that level (A, §2.5),
    falling back to the packet mean where the level has no case.
    """
    feats = case_features(store, params, scheme=scheme)
    cases = history_cases(store).join(feats, "setl_id")
    latest = cases.year.max().to_pyarrow().as_py()
    if latest is None:
        return ibis.memtable(
            {"dip_group": [], "catalog": []}, schema={"dip_group": "string", "catalog": "string"}
        )
    ck = core_key(cases.subcat, cases.procedures)
    n_key = cases.count().over(group_by=[ck])
    is_core = n_key >= int(params["core_min_cases"])
    cases = cases.mutate(
        dip_group=ibis.ifelse(is_core, ck, comprehensive_key(cases.category, cases.proc_type)),
        group_type=ibis.ifelse(is_core, "core", "comprehensive"),
        diag_code=ibis.ifelse(is_core, cases.subcat, cases.category),
        procedures=ibis.ifelse(is_core, cases.procedures, ""),
    )
    groups = cases.group_by(["dip_group", "group_type", "diag_code", "procedures", "proc_type"])
    groups = groups.aggregate(n_cases=cases.count())
    means = _weighted_means(cases, ["dip_group"], int(latest), year_weights)
    grand = _weighted_means(
        cases.mutate(_all=ibis.literal("*")), ["_all"], int(latest), year_weights
    ).select(grand="wmean")
    last = cases.filter(cases.year == latest)
    lv = last.group_by("dip_group").aggregate(
        **{f"_lv{k}": last.cost.mean(where=last.medins_lv == k) for k in ("1", "2", "3")}
    )
    out = groups.join(means, "dip_group").left_join(lv, "dip_group").drop("dip_group_right")
    out = out.cross_join(grand)
    scale = float(params["score_scale"])

    def money(x: ir.NumericValue) -> ir.DecimalValue:
        return x.round(2).cast("decimal(16, 2)")

    return out.select(
        catalog=ibis.literal(str(params["catalog"])),
        dip_group=out.dip_group,
        group_type=out.group_type,
        diag_code=out.diag_code,
        procedures=out.procedures,
        proc_type=out.proc_type,
        n_cases=out.n_cases,
        mean_cost=money(out.wmean),
        score=out.wmean / out.grand * scale,
        ref_cost_lv1=money(ibis.coalesce(out._lv1, out.wmean)),
        ref_cost_lv2=money(ibis.coalesce(out._lv2, out.wmean)),
        ref_cost_lv3=money(ibis.coalesce(out._lv3, out.wmean)),
        source=ibis.literal("derived"),
    )
