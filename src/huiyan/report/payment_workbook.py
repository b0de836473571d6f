"""模拟支付 Excel workbook: simulated DRG/DIP payment vs actual fee-for-service, 盈亏 by group.

Sheets: 汇总 (by method and case type) and, per method, 医院 / 科室 / 病组盈亏. Institutions
show their names beside their codes, case types their Chinese labels; money has thousands
separators; every sheet has a frozen header and a filter (``report.tabular``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from huiyan.model import label
from huiyan.report.tabular import Sheet, write_xlsx

if TYPE_CHECKING:
    from huiyan.engine import Store

# Simulated payment vs actual: standard_payment (DRG/DIP) against medfee_sumamt (fee for
# service) and fund_pay_sumamt; 盈亏 = simulated standard - actual cost.
_VALUES = (
    "count(*) as 病例数, sum(p.actual_cost) as 实际医疗费用, sum(s.fund_pay_sumamt) as 实际基金支付, "
    "sum(p.standard_payment) as 模拟支付标准, "
    "sum(p.standard_payment - (p.actual_cost - coalesce(s.fund_pay_sumamt, 0))) as 模拟基金支付, "
    "sum(p.difference) as 盈亏, sum(p.difference) / nullif(sum(p.actual_cost), 0) as 结余率"
)
_MONEY = ("实际医疗费用", "实际基金支付", "模拟支付标准", "模拟基金支付", "盈亏")
_MEDINS = (
    "p.medins_code as 机构编码, coalesce(any_value(m.medins_name), '') as 机构名称",
    "left join medins m on m.medins_code = p.medins_code",
)
_SHEETS = {
    "医院": (_MEDINS[0], _MEDINS[1], "p.medins_code"),
    "科室": (f"{_MEDINS[0]}, s.dscg_caty as 出院科别", _MEDINS[1], "p.medins_code, s.dscg_caty"),
    "病组盈亏": ('p."group" as 病组', "", 'p."group"'),
}


def _query(store: Store, method: str, sheet: str) -> pa.Table:
    keys, join, group = _SHEETS[sheet]
    if not store.has("medins"):
        keys = keys.replace("coalesce(any_value(m.medins_name), '')", "''")
        join = ""
    return store.con.sql(
        f"select {keys}, {_VALUES} from payment p join setl_list s using (setl_id) {join} "
        f"where p.method = ? and p.case_type <> 'out_of_scope' group by {group} "
        "order by 盈亏, 1",
        params=[method],
    ).to_arrow_table()


def write_workbook(store: Store, path: str | Path) -> Path:
    """Write the simulated-payment workbook (one sheet per method and view) to ``path``."""
    path = Path(path)
    rows = store.con.sql(
        "select method, case_type, count(*), sum(standard_payment), sum(actual_cost), "
        "sum(difference) from payment group by 1, 2 order by 1, 2"
    ).fetchall()
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
