"""Rule case files (``cases/<RULE-ID>.yaml``): small tables with defaults, loaded into a store.

A case names only what matters; every other column takes the default of ``DEFAULTS`` (one
ordinary stay: S1 / M1 / P1 at level-3 hospital H3, 2025-01-01 09:00 to 2025-01-05 10:00).
``feedetail`` rows default ``det_item_fee_sumamt`` to cnt × pric and ``mdtrt_id`` to the
visit of ``setl_id``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from huiyan.engine import Store
from huiyan.model.tables import TABLES

CASES = Path(__file__).parent / "cases"

DEFAULTS: dict[str, dict[str, Any]] = {
    "medins": {"medins_code": "H3", "medins_lv": "3"},
    "setl_list": {
        "setl_id": "S1",
        "psn_no": "P1",
        "medins_code": "H3",
        "gend": "1",
        "age": 40,
        "insutype": "310",
        "adm_way": "2",
        "adm_time": "2025-01-01 09:00:00",
        "dscg_time": "2025-01-05 10:00:00",
        "dscg_way": "1",
        "days_rinp_flag_31": "1",
        "medfee_sumamt": 5000,
        "fund_pay_sumamt": 3500,
    },
    "diseinfo": {"setl_id": "S1", "diag_srt_no": 1, "diag_code": "J18.900", "maindiag_flag": "1"},
    "oprninfo": {"setl_id": "S1", "oprn_srt_no": 1, "main_oprn_flag": "1"},
    "feedetail": {
        "setl_id": "S1",
        "fee_ocur_time": "2025-01-02 10:00:00",
        "cnt": 1,
        "pric": 10,
        "med_chrgitm_type": "05",
    },
    "drg_result": {"setl_id": "S1", "scheme": "chs-drg-1.1", "status": "SUCCESS"},
    "payment": {
        "setl_id": "S1",
        "method": "DRG",
        "case_type": "normal",
        "actual_cost": 0,
        "difference": 0,
    },
}
HOSPITALS = [{"medins_code": f"H{lv}", "medins_lv": str(lv)} for lv in (1, 2, 3)]


def _value(v: Any, t: pa.DataType) -> Any:
    if v is None:
        return None
    if pa.types.is_timestamp(t):
        return datetime.fromisoformat(str(v))
    if pa.types.is_date(t):
        return datetime.fromisoformat(str(v)).date()
    if pa.types.is_decimal(t):
        return Decimal(str(v))
    if pa.types.is_string(t):
        return str(v)
    if pa.types.is_floating(t):
        return float(v)
    if pa.types.is_integer(t):
        return int(v)
    return v


def _rows(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        full = {**DEFAULTS.get(name, {}), **row}
        if name == "setl_list":
            full.setdefault("mdtrt_id", "M" + full["setl_id"][1:])
        if name == "feedetail":
            full.setdefault("mdtrt_id", "M" + full["setl_id"][1:])
            if "det_item_fee_sumamt" not in full:
                full["det_item_fee_sumamt"] = Decimal(str(full["cnt"])) * Decimal(str(full["pric"]))
        out.append(full)
    return out


def table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = TABLES[name].arrow_schema()
    rows = _rows(name, rows)
    unknown = {k for r in rows for k in r} - set(schema.names)
    if unknown:
        raise ValueError(f"{name}: unknown columns {sorted(unknown)}")
    arrays = [pa.array([_value(r.get(f.name), f.type) for r in rows], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def load_case(store: Store, case: dict[str, Any]) -> None:
    """Write the tables of one case (plus the three default hospitals) to ``store``."""
    store.write("medins", table("medins", case.get("medins", HOSPITALS)))
    case = {"setl_list": [{}], "diseinfo": [{}], **case}
    for name, rows in case.items():
        if name in ("expect", "medins", "config"):
            continue
        store.write(name, table(name, rows))


def case_files() -> list[Path]:
    return sorted(CASES.glob("*.yaml"))


def read(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text("utf-8"))
