"""模拟支付 Excel workbook: simulated DRG/DIP payment vs actual fee-for-service, 盈亏 by group."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter

if TYPE_CHECKING:
    from huiyan.engine import Store

# Simulated payment vs actual: standard_payment (DRG/DIP) against medfee_sumamt (fee for
# service) and fund_pay_sumamt; 盈亏 = simulated standard - actual cost.
_SHEETS = {
    "医院": ("p.medins_code", "机构编码"),
    "科室": ("p.medins_code, s.dscg_caty", "机构编码, 出院科别"),
    "病组盈亏": ("p.group", "病组"),
}
_VALUES = (
    "count(*) as 病例数, sum(p.actual_cost) as 实际医疗费用, sum(s.fund_pay_sumamt) as 实际基金支付, "
    "sum(p.standard_payment) as 模拟支付标准, "
    "sum(p.standard_payment - (p.actual_cost - coalesce(s.fund_pay_sumamt, 0))) as 模拟基金支付, "
    "sum(p.difference) as 盈亏, sum(p.difference) / nullif(sum(p.actual_cost), 0) as 结余率"
)


def _query(store: Store, method: str, keys: str) -> tuple[list[str], list[tuple]]:
    rel = store.con.sql(
        f"select {keys}, {_VALUES} from payment p join setl_list s using (setl_id) "
        f"where p.method = ? and p.case_type <> 'out_of_scope' group by all order by 盈亏",
        params=[method],
    )
    return list(rel.columns), rel.fetchall()


def write_workbook(store: Store, path: str | Path) -> Path:
    """Write the simulated-payment workbook (one sheet per method and view) to ``path``."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"num_format": "#,##0.00"})
    pct = wb.add_format({"num_format": "0.00%"})
    summary = wb.add_worksheet("汇总")
    summary.write_row(
        0, 0, ["支付方式", "病例类型", "病例数", "模拟支付", "实际费用", "盈亏"], head
    )
    rows = store.con.sql(
        "select method, case_type, count(*), sum(standard_payment), sum(actual_cost), "
        "sum(difference) from payment group by 1, 2 order by 1, 2"
    ).fetchall()
    for i, row in enumerate(rows, start=1):
        summary.write_row(i, 0, [row[0], row[1], int(row[2])])
        for j, v in enumerate(row[3:], start=3):
            summary.write_number(i, j, float(v or 0), money)
    for method in ("DRG", "DIP"):
        for title, (keys, _) in _SHEETS.items():
            cols, data = _query(store, method, keys)
            ws = wb.add_worksheet(f"{method}{title}")
            ws.write_row(0, 0, cols, head)
            ws.freeze_panes(1, 0)
            for i, row in enumerate(data, start=1):
                for j, v in enumerate(row):
                    if v is None or isinstance(v, str):
                        ws.write(i, j, v)
                    elif cols[j] == "结余率":
                        ws.write_number(i, j, float(v), pct)
                    elif cols[j] == "病例数":
                        ws.write_number(i, j, int(v))
                    else:
                        ws.write_number(i, j, float(v), money)
            ws.set_column(0, len(cols), 16)
    wb.close()
    return path
