"""Hand-built input tables for payment tests (the grouper and generator are written elsewhere)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from huiyan.engine import Store
from huiyan.model import table


def write(store: Store, name: str, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` (dicts with some of the table's columns) to the canonical table ``name``."""
    t = table(name)
    cols = {c: [r.get(c) for r in rows] for c in t.columns if any(c in r for r in rows)}
    store.write(name, pa.table({c: pa.array(v, t[c].type) for c, v in cols.items()}))


def settlement(
    setl_id: str,
    medins_code: str,
    cost: float | str,
    *,
    year: int = 2024,
    los: int = 5,
    fund: float | str | None = None,
    adm_way: str = "2",
    dscg_caty: str = "A03",
    month: int = 6,
) -> dict[str, Any]:
    """One setl_list row discharged in ``year``/``month`` after ``los`` days."""
    dscg = datetime(year, month, 20, 10, 0, 0)
    amt = Decimal(str(cost))
    return {
        "setl_id": setl_id,
        "mdtrt_id": "M" + setl_id,
        "psn_no": "P" + setl_id,
        "medins_code": medins_code,
        "insutype": "310",
        "adm_way": adm_way,
        "adm_time": dscg - timedelta(days=los),
        "dscg_time": dscg,
        "dscg_caty": dscg_caty,
        "medfee_sumamt": amt,
        "fund_pay_sumamt": Decimal(str(fund)) if fund is not None else amt * Decimal("0.8"),
    }


def drg(setl_id: str, code: str, *, status: str = "SUCCESS", mcc: bool = False) -> dict[str, Any]:
    """One drg_result row in the default payment scheme."""
    return {
        "setl_id": setl_id,
        "scheme": "chs-drg-1.1",
        "status": status,
        "mdc": code[0],
        "adrg": code[:3],
        "drg": code,
        "has_mcc": mcc,
        "has_cc": False,
    }


def medins(code: str, level: str = "3") -> dict[str, Any]:
    return {"medins_code": code, "medins_name": f"医院{code}", "medins_lv": level}
