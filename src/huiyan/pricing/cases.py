"""The priced case base: one row per settlement with cost, year, level, LOS and scope.

Both DRG and DIP pricing start here, so they see the same cases, costs and scope decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ibis

from huiyan.model.exact import lit
from huiyan.model.tables import CASE_SCOPE, MEDINS, SETL_LIST

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

S = SETL_LIST.by_name


def case_base(store: Engine) -> ir.Table:
    """Settlements joined to their institution level and scope decision.

    Columns: setl_id, medins_code, medins_lv (null when the institution is unknown), cost
    (float, for trimming quantiles), cost_amt (decimal), patient_share, year, month,
    dscg_date, los (days, minimum 1),
    in_scope (true when ``case_scope`` has no decision), adm_way, dscg_caty.
    """
    s = store.table(SETL_LIST.name)
    m = store.table(MEDINS.name).select("medins_code", "medins_lv")
    m = m.distinct(on="medins_code", keep="first")
    sc = store.table(CASE_SCOPE.name).select("setl_id", "in_scope")
    sc = sc.distinct(on="setl_id", keep="first")
    los = s.dscg_time.date().delta(s.adm_time.date(), unit="day")
    fund = s[S["fund_pay_sumamt"].name].fill_null(0)
    base = s.select(
        "setl_id",
        "medins_code",
        "adm_way",
        "dscg_caty",
        cost_amt=s.medfee_sumamt,
        cost=s.medfee_sumamt.cast("float64"),
        patient_share=(s.medfee_sumamt - fund).cast("decimal(16, 2)"),
        year=s.dscg_time.year().cast("int32"),
        month=s.dscg_time.month().cast("int32"),
        dscg_date=s.dscg_time.date(),
        los=ibis.greatest(los, 1).cast("int32"),
    )
    base = base.left_join(m, "medins_code").drop("medins_code_right")
    base = base.left_join(sc, "setl_id").drop("setl_id_right")
    return base.mutate(in_scope=base.in_scope.fill_null(True))


def by_level(
    lv: ir.StringValue,
    values: Mapping[str, Any],
    *,
    medins_code: ir.StringValue | None = None,
    default: Any = 1.0,
) -> ir.Value:
    """A per-level parameter (``{"3": 3.0, "2": 2.0}``) as an exact DECIMAL(18,6) column;
    medins-code keys win over level keys."""
    branches = []
    if medins_code is not None:
        branches += [(medins_code == k, lit(v)) for k, v in values.items() if len(k) > 1]
    branches += [(lv == k, lit(v)) for k, v in values.items() if len(k) == 1]
    if not branches:
        return lit(default)
    return ibis.cases(*branches, else_=lit(default))


def latest_year(base: ir.Table) -> int | None:
    """The newest discharge year among in-scope cases (None when there are none)."""
    value = base.filter(base.in_scope).year.max().to_pyarrow().as_py()
    return int(value) if value is not None else None
