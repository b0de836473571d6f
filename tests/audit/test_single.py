"""The single-encounter path's own machinery: knowledge-only subqueries computed once, and
finding ids that do not depend on how many findings are hashed together."""

from __future__ import annotations

import ibis
import pyarrow as pa

from huiyan.audit.findings import _jr_ids
from huiyan.audit.single import _Hoister


def test_finding_ids_same_for_few_and_many() -> None:
    setl = pa.array([f"S{i:04d}" for i in range(300)], pa.string())
    detail = pa.array([None if i % 7 == 0 else f"L{i}|L{i + 1}" for i in range(300)], pa.string())
    many = _jr_ids("DUPCHG-001", setl, detail)  # hashed by DuckDB
    few = _jr_ids("DUPCHG-001", setl.slice(0, 20), detail.slice(0, 20))  # hashed in Python
    assert few.to_pylist() == many.to_pylist()[:20]
    assert len(set(many.to_pylist())) == 300


def test_knowledge_only_parts_are_materialized_once() -> None:
    con = ibis.duckdb.connect()
    con.raw_sql("create table lines (setl_id varchar, code varchar, amt double)")
    con.raw_sql("insert into lines values ('S1', 'A', 1.0), ('S1', 'B', 2.0), ('S2', 'C', 4.0)")
    kb = ibis.memtable(
        pa.table(
            {
                "code": ["A", "A", "B", "C", "Z"],
                "kind": ["age", "age", "age", "freq", "age"],
                "max_n": [1, 1, 5, 2, 9],
            }
        )
    )
    rules = kb.filter(kb.kind == "age").select("code", "max_n").distinct()
    lines = con.table("lines")
    j = lines.join(rules, lines.code == rules.code)
    expr = j.group_by("setl_id").aggregate(n=j.code.count(), lim=j.max_n.sum())

    hoist = _Hoister(lambda name, e: con.create_table(name, obj=e))
    (out,) = hoist([expr])
    assert hoist.count == 1  # the filtered DISTINCT of the memtable, not its pieces
    sql = con.compile(out)
    assert "memtable" not in sql
    got = out.to_pyarrow().sort_by("setl_id").to_pylist()
    assert got == expr.to_pyarrow().sort_by("setl_id").to_pylist()
    assert got == [{"setl_id": "S1", "n": 2, "lim": 6}]

    # Rows arriving after compile time are seen: only knowledge was computed ahead.
    con.raw_sql("insert into lines values ('S2', 'A', 3.0)")
    after = out.to_pyarrow().sort_by("setl_id").to_pylist()
    assert after == [{"setl_id": "S1", "n": 2, "lim": 6}, {"setl_id": "S2", "n": 1, "lim": 1}]
