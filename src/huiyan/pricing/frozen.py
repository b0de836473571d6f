"""Frozen and published standards by effective date (``price_freeze``), and year-on-year diff.

A bureau publishes a year's standards — DRG weights and rate, DIP scores and point value,
level coefficients — effective from a date. ``freeze`` stores the standards huiyan derived
under a version; ``load_published`` stores a bureau's own (CSV, the ``price_freeze`` columns:
``version,effective_from,effective_to,method,kind,key,value``; kinds ``weight`` (key: DRG),
``score`` (key: DIP group), ``rate``, ``point_value``, ``perdiem`` (key: ``*``) and
``coefficient`` (key: level 1/2/3 or a medins_code)). ``apply`` re-prices the payment rows of
cases discharged while a version is in force with that version's factors: DRG weight, rate and
coefficient; DIP the point value (a DIP row's score already carries its severity and deviation
adjustment). Case types stay those of the derived standards. ``diff`` compares two versions.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from huiyan.errors import InputError
from huiyan.model.exact import fen_round, q6
from huiyan.model.payment_tables import DIP_CATALOG, DRG_STANDARD, PAYMENT_RATE, PRICE_FREEZE
from huiyan.model.tables import MEDINS, SETL_LIST

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

KINDS = ("weight", "score", "rate", "point_value", "perdiem", "coefficient")
_MAIN = {"DRG": ("weight", "rate"), "DIP": ("score", "point_value")}


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {c: pa.array([r.get(c) for r in rows], PRICE_FREEZE[c].type) for c in PRICE_FREEZE.columns}
    )


def _store(store: Engine, version: str, rows: list[dict[str, Any]]) -> int:
    return store.replace_where(PRICE_FREEZE.name, {"version": [version]}, _table(rows))


def _rows(store: Engine, expr: ir.Table) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in store.to_arrow(expr).to_pylist()]


def freeze(store: Engine, version: str, effective_from: date, effective_to: date | None) -> int:
    """Store the current derived standards as ``version`` in force from ``effective_from``."""
    if store.count(PAYMENT_RATE.name) == 0:
        raise InputError("没有可冻结的支付标准, 请先运行 huiyan price")
    base = {"version": version, "effective_from": effective_from, "effective_to": effective_to}
    rows: list[dict[str, Any]] = []
    rate = store.table(PAYMENT_RATE.name)
    for method, kind, value in _rows(
        store, rate.select("method", "kind", "value").order_by(["method", "kind"])
    ):
        if kind.startswith("coefficient:"):
            rows.append(
                {**base, "method": method, "kind": "coefficient", "key": kind[12:], "value": value}
            )
        elif kind in ("rate", "point_value", "perdiem"):
            m = "DRG" if method == "PERDIEM" else method
            rows.append({**base, "method": m, "kind": kind, "key": "*", "value": value})
    std = store.table(DRG_STANDARD.name).select("drg", "weight")
    for drg, w in _rows(store, std.order_by("drg")):
        rows.append({**base, "method": "DRG", "kind": "weight", "key": drg, "value": w})
    cat = store.table(DIP_CATALOG.name).select("dip_group", "score")
    for g, s in _rows(store, cat.order_by("dip_group")):
        rows.append({**base, "method": "DIP", "kind": "score", "key": g, "value": q6(s)})
    return _store(store, version, rows)


def load_published(store: Engine, path: str | Path) -> int:
    """Store a bureau's published standards from CSV; every version in the file replaced."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            raw = list(csv.DictReader(f))
    except OSError as exc:
        raise InputError(f"{p}: 无法读取: {exc}") from exc
    rows: list[dict[str, Any]] = []
    for i, r in enumerate(raw, start=2):

        def field(name: str, required: bool = True, r: dict = r, i: int = i) -> str:
            v = (r.get(name) or "").strip()
            if required and not v:
                raise InputError(f"{p} 第{i}行 字段 {name}: 不能为空")
            return v

        kind = field("kind")
        if kind not in KINDS:
            raise InputError(f"{p} 第{i}行 字段 kind: {kind!r} 应为 {', '.join(KINDS)}")
        method = field("method").upper()
        if method not in ("DRG", "DIP"):
            raise InputError(f"{p} 第{i}行 字段 method: {method!r} 应为 DRG 或 DIP")
        try:
            start = date.fromisoformat(field("effective_from"))
            end_s = field("effective_to", required=False)
            end = date.fromisoformat(end_s) if end_s else None
        except ValueError as exc:
            raise InputError(f"{p} 第{i}行 生效/失效日期: {exc}") from None
        try:
            value = q6(Decimal(field("value")))
        except InvalidOperation:
            raise InputError(f"{p} 第{i}行 字段 value: {r.get('value')!r} 不是数值") from None
        rows.append(
            {
                "version": field("version"),
                "effective_from": start,
                "effective_to": end,
                "method": method,
                "kind": kind,
                "key": field("key", required=False) or "*",
                "value": value,
            }
        )
    n = 0
    for version in sorted({str(r["version"]) for r in rows}):
        n += _store(store, version, [r for r in rows if r["version"] == version])
    return n


def diff(store: Engine, old: str, new: str) -> list[dict[str, Any]]:
    """Per standard in either version: old value, new value and the relative change."""
    pf = store.table(PRICE_FREEZE.name)
    a = pf.filter(pf.version == old).select("method", "kind", "key", _a="value")
    b = pf.filter(pf.version == new).select(_m="method", _k="kind", _key="key", _b="value")
    j = a.outer_join(b, [a.method == b._m, a.kind == b._k, a.key == b._key])
    both = j.select(
        method=j.method.coalesce(j._m),
        kind=j.kind.coalesce(j._k),
        key=j.key.coalesce(j._key),
        old=j._a,
        new=j._b,
    )
    got = _rows(store, both.order_by(["method", "kind", "key"]))
    if not got:
        raise InputError(f"price_freeze 中没有版本 {old} 或 {new}")
    out = []
    for method, kind, key, a, b in got:
        change = q6((b - a) / a) if a and b is not None else None
        out.append(
            {"method": method, "kind": kind, "key": key, "old": a, "new": b, "change": change}
        )
    return out


def apply(store: Engine, payment: pa.Table, method: str) -> tuple[pa.Table, int]:
    """Re-price standard-paid rows of ``method`` discharged under a frozen version.

    Returns the rows and how many were re-priced. A row keeps its derived factor where the
    version does not list it.
    """
    if not store.has(PRICE_FREEZE.name) or store.count(PRICE_FREEZE.name) == 0:
        return payment, 0
    w_kind, r_kind = _MAIN[method]
    pf = store.table(PRICE_FREEZE.name).filter(lambda t: t.method == method)
    spans = pf.select("version", "effective_from", "effective_to").distinct()
    versions = _rows(store, spans.order_by(["effective_from", "version"]))
    if not versions:
        return payment, 0
    factors: dict[str, dict[tuple[str, str], Decimal]] = {}
    for v, *_ in versions:
        of_v = pf.filter(pf.version == v).select("kind", "key", "value")
        factors[v] = {(k, key): val for k, key, val in _rows(store, of_v)}
    setl = store.table(SETL_LIST.name)
    setl = setl.select("setl_id", "medins_code", day=setl.dscg_time.date())
    lv = store.table(MEDINS.name).select(_code="medins_code", medins_lv="medins_lv")
    j = setl.left_join(lv, setl.medins_code == lv._code)
    info = {
        r[0]: (r[1], r[2], r[3])
        for r in _rows(store, j.select("setl_id", "day", "medins_lv", "medins_code"))
    }
    rows = payment.to_pylist()
    n = 0
    for row in rows:
        w, r = row["weight_or_score"], row["rate_or_point_value"]
        if w is None or r is None or row["group"] == "PERDIEM":
            continue
        day, lv, code = info.get(row["setl_id"], (None, None, None))
        if day is None:
            continue
        version = next(
            (
                v
                for v, start, end in reversed(versions)
                if start <= day and (end is None or day < end)
            ),
            None,
        )
        if version is None:
            continue
        f = factors[version]
        r = f.get((r_kind, "*"), r)
        c = row["coefficient"]
        if method == "DRG":
            w = f.get((w_kind, row["group"]), w)
            c = f.get(("coefficient", code or ""), f.get(("coefficient", lv or ""), c))
        row.update(weight_or_score=w, rate_or_point_value=r, coefficient=c)
        row["standard_payment"] = fen_round(w * r * c)
        row["difference"] = row["standard_payment"] - row["actual_cost"]
        n += 1
    return pa.Table.from_pylist(rows, schema=payment.schema), n
