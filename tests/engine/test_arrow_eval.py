"""The Arrow evaluator against the local store, operation by operation, on small tables with
nulls, ties, decimals at several scales and codes that do and do not match."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest

from huiyan.engine.arrow_eval import ArrowEvaluator, Unsupported

LINES = pa.table(
    {
        "setl_id": ["S1", "S1", "S1", "S2", "S2", None, "S3"],
        "code": ["A1", "B22", "A1", "C3", None, "A1", "B2"],
        "amt": pa.array(
            [
                Decimal("10.50"),
                Decimal("0.05"),
                None,
                Decimal("-3.25"),
                Decimal("7"),
                None,
                Decimal("1.005"),
            ],
            pa.decimal128(16, 3),
        ),
        "qty": pa.array([1.5, 2.0, None, 0.1, 3.0, 1.0, 2.5], pa.float64()),
        "n": pa.array([3, -7, 0, None, 2, 5, 1], pa.int32()),
        "at": pa.array(
            [
                datetime(2025, 1, 3, 8, 0),
                datetime(2025, 1, 3, 23, 59, 59),
                datetime(2025, 1, 4, 0, 0),
                None,
                datetime(2024, 12, 31, 12, 30),
                datetime(2025, 2, 1, 0, 0, 1),
                datetime(2025, 1, 5, 7, 0),
            ],
            pa.timestamp("s"),
        ),
        "sn": ["1", "2", "10", "3", "4", "5", "6"],
    }
)
KB = pa.table(
    {
        "k_code": ["A1", "A1", "B2", "Z9", None],
        "prefix": ["A", "A1", "B2", "Z", "C"],
        "lim": pa.array(
            [Decimal("1.5"), Decimal("2"), Decimal("0.5"), None, Decimal("9")], pa.decimal128(18, 4)
        ),
        "kind": ["x", "y", "x", "x", "y"],
    }
)


@pytest.fixture(scope="module")
def con() -> Any:
    con = ibis.duckdb.connect()
    con.create_table("lines", LINES)
    yield con
    con.disconnect()


def _both(con: Any, build: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of ``build(lines, kb)`` on the local store and on Arrow, in one order."""
    lines, kb = con.table("lines"), ibis.memtable(KB)
    expr = build(lines, kb)
    on_store = expr.to_pyarrow()
    evaluator = ArrowEvaluator()
    evaluator.check(expr)
    on_arrow = evaluator.run(expr, {"lines": LINES}, {})
    assert on_arrow.schema == on_store.schema
    key = [(c, "ascending") for c in on_store.column_names]
    return _rows(on_store.sort_by(key)), _rows(on_arrow.sort_by(key))


def _rows(t: pa.Table) -> list[dict[str, Any]]:
    return t.to_pylist()


CASES = {
    "decimal arithmetic and rounding at the fen": lambda t, kb: t.select(
        "sn",
        s=(t.amt + t.n).cast("decimal(38, 6)"),
        p=t.amt.cast("decimal(38, 6)") * ibis.literal(Decimal("0.4"), type="decimal(18, 6)"),
        r=t.amt.cast("decimal(38, 6)").round(2).cast("decimal(38, 2)").cast("string"),
        neg=-t.amt,
        ab=t.amt.abs(),
        i=t.amt.cast("int64"),
        fen=t.amt.cast("decimal(38, 2)"),
    ),
    "doubles, integers, division and modulus": lambda t, kb: t.select(
        "sn",
        d=t.qty / t.n.nullif(0),
        m=t.n % 3,
        g=ibis.greatest(t.n, 1),
        l=ibis.least(t.qty, t.n),
        q=t.qty.cast("string"),
        k=(t.qty * 2).round(0).cast("int64"),
    ),
    "null logic in filters": lambda t, kb: t.filter(
        (t.code.isin(["A1", "C3"]) | t.n.isnull()) & ~(t.amt > 5)
    ).select("sn"),
    "strings": lambda t, kb: t.select(
        "sn",
        c=t.code + "-" + t.setl_id,
        f=t.code.fill_null("") + "(" + t.sn + ")",
        ln=t.code.length(),
        sub=t.code.substr(1, 2),
        left=t.code.left(t.code.length() - 1),
        sw=t.code.startswith("A"),
        ew=t.code.endswith("2"),
        ct=t.code.contains("2"),
        cs=t.code.cases(("A1", "first"), ("B2", "second"), else_="other"),
        sc=ibis.cases((t.n > 2, "big"), (t.n < 0, "negative"), else_=None),
        co=ibis.coalesce(t.code, t.setl_id, "none"),
        ie=ibis.ifelse(t.qty > 1.5, t.code, t.setl_id),
    ),
    "times and days": lambda t, kb: t.select(
        "sn",
        day=t.at.date(),
        text=t.at.date().cast("string"),
        ts=t.at.cast("string"),
        sec=t.at.epoch_seconds(),
        days=t.at.date().epoch_days(),
        delta=t.at.date().delta(ibis.date(2025, 1, 1), unit="day"),
    ),
    "group by with every reduction": lambda t, kb: t.group_by("setl_id").aggregate(
        total=t.amt.sum(),
        big=t.amt.sum(where=t.n > 0),
        n=t.count(),
        nn=t.n.count(),
        codes=t.code.nunique(),
        top=t.code.max(),
        low=t.at.min(),
        avg=t.qty.mean(),
        units=t.sn.group_concat("|", order_by=t.sn),
    ),
    "aggregate without groups over nothing": lambda t, kb: _nothing(t),
    "windows": lambda t, kb: t.select(
        "sn",
        rn=ibis.row_number().over(ibis.window(group_by=t.setl_id, order_by=t.sn)),
        dr=t.code.dense_rank().over(ibis.window(group_by=t.setl_id, order_by=t.code)),
        prev=t.sn.lag().over(ibis.window(group_by=t.setl_id, order_by=t.at)),
        top=t.qty.max().over(ibis.window(group_by=t.setl_id)),
        # Ties (S1 has A1 twice), a null partition and a null code, two order keys, and a
        # shift past the partition's end with a default.
        mr=t.code.rank().over(ibis.window(group_by=t.setl_id, order_by=t.code)),
        dr2=ibis.dense_rank().over(ibis.window(order_by=[t.setl_id, t.code])),
        nxt=t.sn.lead(2, "none").over(ibis.window(group_by=t.setl_id, order_by=t.sn)),
    ),
    "inner join with a residual predicate": lambda t, kb: t.join(
        kb, (t.code == kb.k_code) & (t.amt.cast("decimal(38, 6)") > kb.lim)
    ).select("sn", "k_code", "kind", "lim"),
    "left, semi and anti joins": lambda t, kb: (
        t.left_join(kb, t.code == kb.k_code)
        .select("sn", "kind")
        .union(t.semi_join(kb, t.code == kb.k_code).select("sn", kind=ibis.literal("semi")))
        .union(t.anti_join(kb, t.code == kb.k_code).select("sn", kind=ibis.literal("anti")))
    ),
    "prefix join": lambda t, kb: t.join(kb, t.code.startswith(kb.prefix)).select("sn", "prefix"),
    "join on two keys": lambda t, kb: _self_join(t),
    "distinct, sort and limit": lambda t, kb: (
        t.select("setl_id", "code").distinct().order_by([ibis.desc("code"), "setl_id"]).limit(3)
    ),
}


def _nothing(t: Any) -> Any:
    f = t.filter(t.n > 100)
    return f.aggregate(total=f.amt.sum(), n=f.count(), top=f.code.max())


def _self_join(t: Any) -> Any:
    o = t.select(s2="setl_id", c2="code", sn2="sn")
    return t.join(o, [t.setl_id == o.s2, t.code == o.c2]).select("sn", "sn2")


@pytest.mark.parametrize("name", list(CASES))
def test_same_rows_as_the_local_store(con: Any, name: str) -> None:
    on_store, on_arrow = _both(con, CASES[name])
    assert on_arrow == on_store
    assert on_store, "each case should give rows"


def test_unsupported_operations_are_refused_before_running(con: Any) -> None:
    t = con.table("lines")
    expr = t.select(x=t.code.re_search("A.*"))
    with pytest.raises(Unsupported, match="RegexSearch"):
        ArrowEvaluator().check(expr)


def test_knowledge_is_computed_once_and_inputs_are_read_per_run(con: Any) -> None:
    t, kb = con.table("lines"), ibis.memtable(KB)
    limits = kb.filter(kb.kind == "x").select("k_code", "lim")
    expr = t.join(limits, t.code == limits.k_code).select("sn", "lim")
    evaluator = ArrowEvaluator()
    first = evaluator.run(expr, {"lines": LINES}, {})
    assert sorted(first.column("sn").to_pylist()) == ["1", "10", "5", "6"]
    again = evaluator.run(expr, {"lines": LINES.slice(0, 1)}, {})
    assert again.column("sn").to_pylist() == ["1"]
    assert evaluator.run(expr, {}, {}).num_rows == 0  # a table not given has no rows
