"""Load a bureau's published DIP catalog (CSV, UTF-8) in place of the derived one.

Format — one row per packet, a header with these columns (order free)::

    dip_group,group_type,diag_code,procedures,proc_type,score[,catalog,ref_cost_lv1,ref_cost_lv2,ref_cost_lv3,mean_cost,n_cases]
    I21.0|36.0600,core,I21.0,36.0600,surgery,2350.5,,,,45000,
    I21:conservative,comprehensive,I21,,conservative,980,,,,,

- ``dip_group``: for core packets ``<subcategory>`` (conservative) or
  ``<subcategory>|<code>+<code>…`` with the procedure codes sorted; comprehensive packets
  ``<category>:<proc_type>``. ``group_type``: core / comprehensive / basic.
- ``proc_type``: conservative / diagnostic / therapeutic / surgery.
- ``score``: points on the catalog's scale; ``ref_cost_lv1..3``: the previous year's mean
  cost of the packet at hospitals of each level (A of the deviation rule); when blank,
  ``mean_cost`` is used.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from huiyan.errors import InputError
from huiyan.grouping.dip.features import PROC_TYPES
from huiyan.model import codes
from huiyan.model.payment_tables import DIP_CATALOG

REQUIRED = ("dip_group", "group_type", "diag_code", "proc_type", "score")
_MONEY = ("ref_cost_lv1", "ref_cost_lv2", "ref_cost_lv3", "mean_cost")


def _number(value: str, where: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise InputError(f"{where}: {value!r} 不是数字") from None


def load_catalog(path: str | Path, *, name: str) -> pa.Table:
    """The catalog in ``path`` as ``dip_catalog`` rows (errors name file, row and field)."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise InputError(f"{p}: 无法读取DIP目录: {exc}") from exc
    if not rows:
        raise InputError(f"{p}: DIP目录为空")
    missing = [c for c in REQUIRED if c not in rows[0]]
    if missing:
        raise InputError(f"{p}: 缺少列 {', '.join(missing)}")
    group_types = set(codes("dip_group_type"))
    out: dict[str, list[object]] = {c: [] for c in DIP_CATALOG.columns}
    seen: set[str] = set()
    for i, row in enumerate(rows, start=2):
        where = f"{p} 第{i}行"
        for col in REQUIRED:
            if not (row.get(col) or "").strip():
                raise InputError(f"{where} 字段 {col}: 不能为空")
        if row["group_type"] not in group_types:
            raise InputError(f"{where} 字段 group_type: {row['group_type']!r} 不是有效病种类型")
        if row["proc_type"] not in PROC_TYPES:
            raise InputError(f"{where} 字段 proc_type: {row['proc_type']!r} 不是有效治疗方式")
        if row["dip_group"] in seen:
            raise InputError(f"{where} 字段 dip_group: {row['dip_group']!r} 重复")
        seen.add(row["dip_group"])
        score = _number(row["score"], f"{where} 字段 score")
        if score is None or score <= 0:
            raise InputError(f"{where} 字段 score: 分值必须大于0")
        money = {c: _number(row.get(c) or "", f"{where} 字段 {c}") for c in _MONEY}
        for lv in ("ref_cost_lv1", "ref_cost_lv2", "ref_cost_lv3"):
            money[lv] = money[lv] if money[lv] is not None else money["mean_cost"]
        n = _number(row.get("n_cases") or "", f"{where} 字段 n_cases")
        values = {
            "catalog": (row.get("catalog") or "").strip() or name,
            "dip_group": row["dip_group"].strip(),
            "group_type": row["group_type"],
            "diag_code": row["diag_code"].strip(),
            "procedures": (row.get("procedures") or "").strip(),
            "proc_type": row["proc_type"],
            "n_cases": int(n) if n is not None else None,
            "score": score,
            "source": "published",
            **{c: (None if v is None else round(v, 2)) for c, v in money.items()},
        }
        for col in DIP_CATALOG.columns:
            out[col].append(values.get(col))
    arrays = {
        c: pa.array(v, DIP_CATALOG[c].type if c not in _MONEY else pa.float64())
        for c, v in out.items()
    }
    return DIP_CATALOG.conform(pa.table(arrays))
