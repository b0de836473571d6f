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
from huiyan.model.payment_tables import PRICE_FREEZE
from huiyan.pricing.exact import fen_round, q6

if TYPE_CHECKING:
    from huiyan.engine import Store

KINDS = ("weight", "score", "rate", "point_value", "perdiem", "coefficient")
_MAIN = {"DRG": ("weight", "rate"), "DIP": ("score", "point_value")}


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {c: pa.array([r.get(c) for r in rows], PRICE_FREEZE[c].type) for c in PRICE_FREEZE.columns}
    )


def _store(store: Store, version: str, rows: list[dict[str, Any]]) -> int:
    store.ensure(PRICE_FREEZE.name)
    with store.transaction():
        store.con.execute(f'DELETE FROM "{PRICE_FREEZE.name}" WHERE version = ?', [version])
    return store.write(PRICE_FREEZE.name, _table(rows))


def freeze(store: Store, version: str, effective_from: date, effective_to: date | None) -> int:
    """Store the current derived standards as ``version`` in force from ``effective_from``."""
    if not store.has("payment_rate") or store.count("payment_rate") == 0:
        raise InputError("没有可冻结的支付标准, 请先运行 huiyan price")
    base = {"version": version, "effective_from": effective_from, "effective_to": effective_to}
    rows: list[dict[str, Any]] = []
    for method, kind, value in store.con.sql(
        "select method, kind, value from payment_rate order by 1, 2"
    ).fetchall():
        if kind.startswith("coefficient:"):
            rows.append(
                {**base, "method": method, "kind": "coefficient", "key": kind[12:], "value": value}
            )
        elif kind in ("rate", "point_value", "perdiem"):
            m = "DRG" if method == "PERDIEM" else method
            rows.append({**base, "method": m, "kind": kind, "key": "*", "value": value})
    for drg, w in store.con.sql("select drg, weight from drg_standard order by 1").fetchall():
        rows.append({**base, "method": "DRG", "kind": "weight", "key": drg, "value": w})
    for g, s in store.con.sql("select dip_group, score from dip_catalog order by 1").fetchall():
        rows.append({**base, "method": "DIP", "kind": "score", "key": g, "value": q6(s)})
    return _store(store, version, rows)


def load_published(store: Store, path: str | Path) -> int:
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
    for version in sorted({r["version"] for r in rows}):
        n += _store(store, version, [r for r in rows if r["version"] == version])
    return n


def diff(store: Store, old: str, new: str) -> list[dict[str, Any]]:
    """Per standard in either version: old value, new value and the relative change."""
    got = store.con.sql(
        "select coalesce(a.method, b.method), coalesce(a.kind, b.kind), coalesce(a.key, b.key), "
        "a.value, b.value from (select * from price_freeze where version = ?) a "
        "full join (select * from price_freeze where version = ?) b "
        "using (method, kind, key) order by 1, 2, 3",
        params=[old, new],
    ).fetchall()
    if not got:
        raise InputError(f"price_freeze 中没有版本 {old} 或 {new}")
    out = []
    for method, kind, key, a, b in got:
        change = q6((b - a) / a) if a and b is not None else None
        out.append(
            {"method": method, "kind": kind, "key": key, "old": a, "new": b, "change": change}
        )
    return out


def apply(store: Store, payment: pa.Table, method: str) -> tuple[pa.Table, int]:
    """Re-price standard-paid rows of ``method`` discharged under a frozen version.

    Returns the rows and how many were re-priced. A row keeps its derived factor where the
    version does not list it.
    """
    if not store.has(PRICE_FREEZE.name) or store.count(PRICE_FREEZE.name) == 0:
        return payment, 0
    w_kind, r_kind = _MAIN[method]
    versions = store.con.sql(
        "select distinct version, effective_from, effective_to from price_freeze "
        "where method = ? order by effective_from, version",
        params=[method],
    ).fetchall()
    if not versions:
        return payment, 0
    factors: dict[str, dict[tuple[str, str], Decimal]] = {}
    for v, *_ in versions:
        factors[v] = {
            (k, key): val
            for k, key, val in store.con.sql(
                "select kind, key, value from price_freeze where version = ? and method = ?",
                params=[v, method],
            ).fetchall()
        }
    info = {
        r[0]: (r[1], r[2], r[3])
        for r in store.con.sql(
            "select s.setl_id, cast(s.dscg_time as date), m.medins_lv, s.medins_code "
            "from setl_list s left join medins m using (medins_code)"
        ).fetchall()
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
