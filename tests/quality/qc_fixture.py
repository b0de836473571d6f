"""The hand-built QC fixture (``cases/base.yaml``), patched per case and loaded into a store."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from huiyan.engine import Store
from huiyan.model import table

CASES = Path(__file__).parent / "cases"

# Which column ties a row of each table to its settlement (feedetail through the visit,
# the front page through the medical-record number).
_LINK = {"feedetail": ("mdtrt_id", "mdtrt_id"), "medrcd": ("medcasno", "medcasno")}


def base() -> dict[str, list[dict[str, Any]]]:
    raw = yaml.safe_load((CASES / "base.yaml").read_text("utf-8"))
    tables = copy.deepcopy(raw["tables"])
    defaults = raw["defaults"]["setl_list"]
    tables["setl_list"] = [{**defaults, **row} for row in tables["setl_list"]]
    return tables


def _belongs(name: str, row: dict[str, Any], setl: dict[str, Any]) -> bool:
    if name in _LINK:
        col, setl_col = _LINK[name]
        return row.get(col) == setl[setl_col]
    if name == "medins":
        return row.get("medins_code") == setl["medins_code"]
    return row.get("setl_id") == setl["setl_id"]


def patch(
    tables: dict[str, list[dict[str, Any]]], ops: list[dict[str, Any]], setl_id: str
) -> dict[str, list[dict[str, Any]]]:
    """Apply ``ops`` to the rows of settlement ``setl_id``.

    Each op names a ``table`` and one of ``set`` (with an optional ``where``), ``add`` (a row;
    ``setl_id`` defaults to the case's) or ``delete`` (a ``where``, or all rows of the case).
    """
    t = copy.deepcopy(tables)
    setl = next(r for r in t["setl_list"] if r["setl_id"] == setl_id)
    for op in ops:
        name = op["table"]
        rows = t.setdefault(name, [])
        where = op.get("where") or op.get("delete") or {}

        def hit(r: dict[str, Any], name: str = name, where: dict = where) -> bool:
            return _belongs(name, r, setl) and all(r.get(k) == v for k, v in where.items())

        if "set" in op:
            matched = [r for r in rows if hit(r)]
            if not matched:
                raise ValueError(f"patch {op}: no row of {name} matches")
            for r in matched:
                r.update(op["set"])
        elif "add" in op:
            row = dict(op["add"])
            if "setl_id" in table(name) and name not in ("feedetail",):
                row.setdefault("setl_id", setl_id)
            rows.append(row)
        elif "delete" in op:
            t[name] = [r for r in rows if not hit(r)]
        else:
            raise ValueError(f"patch {op}: needs set, add or delete")
    return t


_IDS = ("setl_id", "mdtrt_id", "psn_no", "medcasno")


def relabel(
    tables: dict[str, list[dict[str, Any]]], suffix: str
) -> dict[str, list[dict[str, Any]]]:
    """A copy whose settlement, visit, person and record ids end in ``suffix``.

    Many patched copies of the fixture then live side by side in one store, so every case runs
    in a single pass of the checks.
    """
    return {
        name: [
            {k: (f"{v}{suffix}" if k in _IDS and v is not None else v) for k, v in r.items()}
            for r in rows
        ]
        for name, rows in tables.items()
    }


def to_arrow(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as the canonical table: every value goes in as text and is cast to the model type."""
    t = table(name)
    cols = {
        f.name: pa.array(
            [None if r.get(f.name) is None else str(r[f.name]) for r in rows], pa.string()
        )
        for f in t.fields
    }
    return t.conform(pa.table(cols))


def load(store: Store, tables: dict[str, list[dict[str, Any]]]) -> None:
    for name, rows in tables.items():
        store.write(name, to_arrow(name, rows), mode="replace")


def merged(cases: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The clean base plus one relabelled, patched copy of it per case (``~i`` suffixes)."""
    clean = base()
    out: dict[str, list[dict[str, Any]]] = {name: list(rows) for name, rows in clean.items()}
    for i, case in enumerate(cases):
        copy_ = relabel(patch(clean, case["patch"], case["setl"]), f"~{i}")
        for name, rows in copy_.items():
            out.setdefault(name, []).extend(r for r in rows if name != "medins")
    return out
