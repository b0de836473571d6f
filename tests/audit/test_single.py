"""The single-encounter path's own machinery: knowledge-only subqueries computed once, and
finding ids that do not depend on how many findings are hashed together."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc

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


def test_skipping_rules_that_cannot_fire_changes_no_finding(tmp_path: Path) -> None:
    """Each encounter audited alone, then again with every rule forced to run: the same
    findings, the batch audit's; and rules were skipped (the point of ``_Reach``)."""
    from tests.audit.region import build_region

    from huiyan.audit.api import audit_store
    from huiyan.audit.single import ENCOUNTER_TABLES, SingleAuditor
    from huiyan.engine import Store
    from huiyan.kb import config

    db, _ = build_region(tmp_path / "region", cases=80, seed=5)
    cfg = config.load()
    with Store(db, read_only=True) as store:
        want = audit_store(store, cfg, stage="in").findings
        names = set(store.tables())
        stored = {n: store.read(n) for n in ("medins", "hilist") if n in names}
        tables = {n: store.read(n) for n in ENCOUNTER_TABLES}
    auditor = SingleAuditor(cfg, stage="in", stored=stored.get)
    forced = SingleAuditor(cfg, stage="in", stored=stored.get)
    forced._reach.may = lambda op, env: True  # type: ignore[method-assign]
    # The engine path kept for rules the Arrow evaluator cannot run: the same findings.
    planned = SingleAuditor(cfg, stage="in", stored=stored.get)
    for r in planned._compiled.rules:
        r.arrow = False
    setl = tables["setl_list"].sort_by("setl_id").slice(0, 40)
    # Warmed at load on other stays (as the server does): knowledge relations and indexes are
    # computed before the first request, and change no finding.
    warmed = SingleAuditor(cfg, stage="in", stored=stored.get)
    assert not warmed._arrow._const and not warmed._arrow._index
    warmed.warm(_encounters(tables, tables["setl_list"].sort_by("setl_id").slice(40, 8)))
    assert warmed._arrow._const and warmed._arrow._index
    got: list[dict[str, object]] = []
    for row in setl.to_pylist():
        batch = _encounters(tables, setl.filter(pc.equal(setl.column("setl_id"), row["setl_id"])))
        pruned = auditor.audit(batch).to_pylist()
        assert pruned == forced.audit(batch).to_pylist()
        assert pruned == planned.audit(batch).to_pylist()
        assert pruned == warmed.audit(batch).to_pylist()
        got += pruned
    ids = pa.array(setl.column("setl_id").to_pylist())
    expected = want.filter(pc.is_in(want.column("setl_id"), ids))
    key = ("rule_id", "setl_id", "jr_id", "vola_amt", "vola_cont")
    assert expected.num_rows > 0
    assert sorted(tuple(str(f[k]) for k in key) for f in got) == sorted(
        tuple(str(f[k]) for k in key) for f in expected.to_pylist()
    )
    assert auditor.skipped > 0 and forced.skipped == 0
    assert auditor.on_engine == 0 and planned.on_engine > 0


def _encounters(tables: dict[str, pa.Table], setl: pa.Table) -> dict[str, pa.Table]:
    """The encounter tables' rows of the settlements in ``setl``."""

    def rows(name: str, column: str, key: str) -> pa.Table:
        t = tables[name]
        return t.filter(pc.is_in(t.column(column), setl.column(key)))

    return {
        "setl_list": setl,
        "diseinfo": rows("diseinfo", "setl_id", "setl_id"),
        "oprninfo": rows("oprninfo", "setl_id", "setl_id"),
        "feedetail": rows("feedetail", "mdtrt_id", "mdtrt_id"),
    }


def test_reach_skips_only_what_cannot_give_rows() -> None:
    from huiyan.audit.single import _Reach
    from huiyan.engine import SmallEngine

    eng = SmallEngine()
    try:
        eng.ensure("feedetail")
        eng.ensure("diseinfo")
        kb = eng.create("_rt_kb_0", pa.table({"code": ["A1", "B2"], "lim": [1, 2]}))
        fee = eng.ibis.table("feedetail")
        dis = eng.ibis.table("diseinfo")
        reach = _Reach(eng, {}, ("feedetail", "diseinfo"))
        by_list = fee.filter(fee.med_list_codg.isin(["X9"])).op()
        by_join = fee.join(kb, fee.med_list_codg == kb.code).op()
        by_prefix = dis.filter(dis.diag_code.startswith("K35")).op()
        by_star = dis.filter(dis.diag_code.contains("*")).op()
        left = fee.left_join(kb, fee.med_list_codg == kb.code).op()
        total = fee.aggregate(n=fee.count()).op()  # one row even over no line

        def batch(codes: list[str], diags: list[str]) -> dict[str, pa.Table]:
            return {
                "feedetail": pa.table({"med_list_codg": codes}),
                "diseinfo": pa.table({"diag_code": diags}),
            }

        env = reach.env(batch(["A1", "Z"], ["K35.800"]), {})
        assert not reach.may(by_list, env)
        assert reach.may(by_join, env) and reach.may(by_prefix, env)
        assert not reach.may(by_star, env)
        env = reach.env(batch(["Z"], ["A18.3*"]), {})
        assert not reach.may(by_join, env) and not reach.may(by_prefix, env)
        assert reach.may(by_star, env) and reach.may(left, env)
        env = reach.env(batch([], []), {})
        assert not reach.may(left, env) and reach.may(total, env)
        # Earlier stays count: a code only in the history still triggers.
        env = reach.env(batch([], []), {"feedetail": pa.table({"med_list_codg": ["X9"]})})
        assert reach.may(by_list, env)
    finally:
        eng.close()


def test_every_real_time_rule_runs_on_arrow() -> None:
    """No rule of the pre/in stages needs the engine's planner per request (a rule that does
    still gives the same findings, but costs ~3 ms of planning per request: see single.py)."""
    from huiyan.audit.single import SingleAuditor
    from huiyan.kb import config

    for stage in ("pre", "in"):
        auditor = SingleAuditor(config.load(), stage=stage)
        try:
            on_engine = [r.spec.id for r in auditor._compiled.rules if not r.arrow]
            assert auditor._compiled.rules
            assert on_engine == [], f"{stage}: {on_engine}"
        finally:
            auditor.close()


def test_micro_batcher_one_pass_on_the_loop_first_load_in_a_thread() -> None:
    """Concurrent requests share one pass, run on the event loop's thread (no contention for
    the interpreter lock with the loop); each gets only its own findings. Before the knowledge
    is loaded, getting the auditor (a load: seconds) happens in a thread."""
    import asyncio
    import threading

    from huiyan.audit.single import ENCOUNTER_TABLES, MicroBatcher
    from huiyan.model.tables import table

    passes: list[tuple[int, list[str]]] = []
    made_in: list[int] = []

    class Auditor:
        def audit(self, batch: dict[str, pa.Table]) -> pa.Table:
            ids = batch["setl_list"].column("setl_id").to_pylist()
            passes.append((threading.get_ident(), ids))
            return pa.table({"setl_id": ids, "rule_id": [f"R-{s}" for s in ids]})

    def auditor() -> Auditor:
        made_in.append(threading.get_ident())
        return Auditor()

    def encounter(setl_id: str) -> dict[str, pa.Table]:
        out = {n: table(n).arrow_schema().empty_table() for n in ENCOUNTER_TABLES}
        out["setl_list"] = table("setl_list").conform(pa.table({"setl_id": [setl_id]}))
        return out

    loaded = False

    async def run() -> tuple[pa.Table, list[pa.Table], int]:
        nonlocal loaded
        batcher = MicroBatcher(auditor, ready=lambda: loaded, window=0.01)  # type: ignore[arg-type]
        first = await batcher.submit(encounter("S0"))
        loaded = True
        rest = await asyncio.gather(*(batcher.submit(encounter(f"S{i}")) for i in (1, 2, 3)))
        return first, list(rest), threading.get_ident()

    first, rest, loop_thread = asyncio.run(run())
    assert made_in[0] != loop_thread and made_in[1] == loop_thread
    assert passes == [(loop_thread, ["S0"]), (loop_thread, ["S1", "S2", "S3"])]
    assert first.column("rule_id").to_pylist() == ["R-S0"]
    assert [t.column("rule_id").to_pylist() for t in rest] == [["R-S1"], ["R-S2"], ["R-S3"]]
