"""模拟支付 Excel workbook: simulated DRG/DIP payment vs actual fee-for-service, 盈亏 by group.

Sheets: 汇总 (by method and case type) and, per method, 医院 / 科室 / 病组盈亏. Institutions
show their names beside their codes, case types their Chinese labels; money has thousands
separators; every sheet has a frozen header and a filter (``report.tabular``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from huiyan.model import label
from huiyan.report.tabular import Sheet, write_xlsx

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

# Simulated payment vs actual: standard_payment (DRG/DIP) against medfee_sumamt (fee for
# service) and fund_pay_sumamt; 盈亏 = simulated standard - actual cost.
_MONEY = ("实际医疗费用", "实际基金支付", "模拟支付标准", "模拟基金支付", "盈亏")
# Sheet -> the columns it groups by (output name -> source column of the joined rows).
_SHEETS: dict[str, dict[str, str]] = {
    "医院": {"机构编码": "medins_code"},
    "科室": {"机构编码": "medins_code", "出院科别": "dscg_caty"},
    "病组盈亏": {"病组": "group"},
}


def _query(store: Engine, method: str, sheet: str) -> pa.Table:
    p = store.table("payment")
    p = p.filter((p.method == method) & (p.case_type != "out_of_scope"))
    s = store.table("setl_list").select("setl_id", "dscg_caty", "fund_pay_sumamt")
    j = p.join(s, "setl_id")
    keys = _SHEETS[sheet]
    names: dict[str, ir.Value] = {}
    if "medins_code" in keys.values():
        if store.has("medins"):
            m = store.table("medins").select(_code="medins_code", _name="medins_name")
            j = j.left_join(m, j.medins_code == m._code)
            names["机构名称"] = j._name.arbitrary().fill_null("")
        else:
            names["机构名称"] = ibis.literal("").arbitrary()
    fund = j.fund_pay_sumamt.fill_null(0)
    agg = j.group_by([j[c].name(k) for k, c in keys.items()]).aggregate(
        **names,
        病例数=j.count(),
        实际医疗费用=j.actual_cost.sum(),
        实际基金支付=j.fund_pay_sumamt.sum(),
        模拟支付标准=j.standard_payment.sum(),
        模拟基金支付=(j.standard_payment - (j.actual_cost - fund)).sum(),
        盈亏=j["difference"].sum(),
        结余率=j["difference"].sum().cast("float64")
        / j.actual_cost.sum().cast("float64").nullif(0),
    )
    first, *rest = keys
    values = [c for c in agg.columns if c not in keys and c not in names]
    ordered = agg.select(first, *names, *rest, *values)
    return store.to_arrow(ordered.order_by(["盈亏", first]))


def write_workbook(store: Engine, path: str | Path) -> Path:
    """Write the simulated-payment workbook (one sheet per method and view) to ``path``."""
    path = Path(path)
    p = store.table("payment")
    by_type = p.group_by(["method", "case_type"]).aggregate(
        n=p.count(),
        standard=p.standard_payment.sum(),
        actual=p.actual_cost.sum(),
        difference=p["difference"].sum(),
    )
    rows = [
        tuple(r.values())
        for r in store.to_arrow(by_type.order_by(["method", "case_type"])).to_pylist()
    ]
    summary = pa.table(
        {
            "支付方式": [r[0] for r in rows],
            "病例类型": [label("case_type", r[1]) for r in rows],
            "病例数": pa.array([int(r[2]) for r in rows], pa.int64()),
            "模拟支付": pa.array([r[3] for r in rows], pa.decimal128(18, 2)),
            "实际费用": pa.array([r[4] for r in rows], pa.decimal128(18, 2)),
            "盈亏": pa.array([r[5] for r in rows], pa.decimal128(18, 2)),
        }
    )
    sheets = [Sheet("汇总", summary)]
    for method in ("DRG", "DIP"):
        for title in _SHEETS:
            sheets.append(
                Sheet(
                    f"{method}{title}",
                    _query(store, method, title),
                    percent=("结余率",),
                    money=_MONEY,
                )
            )
    return write_xlsx(path, sheets)
