"""Audit of a few encounters at a time (real-time 3101/3102): the batch rules on a small engine.

One rule library, two paths: the rule functions of ``audit.rules`` are bound (``inputs.bind``)
once to an in-memory DuckDB whose canonical tables start empty, every enabled rule of the
stage is turned into one ``UNION ALL`` query, compiled to SQL once and kept. The parts of that
query that read only knowledge (catalog, restrictions, knowledge tables) are computed once into
tables of the small engine (``_Hoister``), so a batch's query does only encounter-dependent
work. Auditing a batch replaces the rows of the encounter tables with the batch (plus, for
rules that look back, the persons' earlier stays read from the store), runs the query and
assembles the findings with the batch audit's own ``findings.assemble``; so rule ids, amounts,
texts and ``jr_id`` are those of ``huiyan audit --stage`` for the same encounters.

Where the time goes (profiled, see the realtime report): executing the query on a batch costs
little (under a millisecond of DuckDB CPU for a few encounters); DuckDB binds and optimizes the
~70 KB query again on every execution, prepared or not, which is a fixed cost of the order of
100 ms CPU per batch on the shared test machine. Hence ``MicroBatcher``: concurrent requests
collected for a few milliseconds share one execution.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.audit import engine
from huiyan.audit.findings import assemble
from huiyan.audit.inputs import STORE_TABLES, Source, bind
from huiyan.audit.spec import RuleSpec
from huiyan.model.tables import FINDING, table

# The encounter tables a request fills; the other store tables (groupings, payments) stay empty
# because no rule of the pre/in stages reads them (checked in ``SingleAuditor.__init__``).
ENCOUNTER_TABLES = ("setl_list", "diseinfo", "oprninfo", "feedetail")
# Classes whose rules compare a stay with the person's other stays: their stages need history.
HISTORY_CLASSES = frozenset({"SPLIT"})
HISTORY_RULES = frozenset({"FAKE-004"})

Batch = Mapping[str, pa.Table]  # encounter table name -> rows (canonical columns)


@dataclass
class History:
    """Earlier stays of the persons in a batch, read from the store (empty without a store)."""

    read: Callable[[Sequence[str], Sequence[str]], dict[str, pa.Table]] | None = None

    def rows(self, psn_nos: Sequence[str], exclude: Sequence[str]) -> dict[str, pa.Table]:
        if self.read is None or not psn_nos:
            return {}
        return self.read(psn_nos, exclude)


@dataclass
class _Compiled:
    sql: str
    specs: dict[str, tuple[RuleSpec, str]]  # rule_id -> (spec, effective sev_deg)
    keep: list[Any] = field(default_factory=list)  # Ibis objects the SQL's memtables belong to
    derived: list[str] = field(default_factory=list)  # refilled in order before each query
    hoisted: int = 0  # knowledge-only subqueries computed once at compile time


class SingleAuditor:
    """Audits small batches of encounters with the rule library, compiled and cached once.

    ``stored(name)`` returns a small stored table (``medins``, ``hilist``, knowledge tables) as
    Arrow or None, exactly what the batch audit's ``store_source`` reads, so a dataset's own
    catalog and knowledge apply to both paths. Not thread-safe: ``audit`` takes a lock.
    """

    def __init__(
        self,
        config: dict[str, dict[str, Any]],
        *,
        stage: str = "in",
        stored: Callable[[str], pa.Table | None] = lambda _name: None,
        history: History | None = None,
    ) -> None:
        from huiyan.engine import Store

        self.config = config
        self.stage = stage
        self.history = history or History()
        self._lock = threading.Lock()
        self._mem = Store(":memory:")
        # One thread: a batch is too small to split, the workers use the cores, and extra DuckDB
        # threads only added synchronisation (server CPU per request 19.4 -> 10.8 ms measured).
        self._mem.con.execute("SET threads=1")
        for name in STORE_TABLES:
            self._mem.ensure(name)
        medins = stored("medins")
        if medins is not None:
            self._mem.write("medins", medins.select(table("medins").columns))
        self._medins = set(self._mem.read("medins").column("medins_code").to_pylist())
        self.rules = engine.enabled_rules(config["audit"], stage=stage)
        self.needs_history = any(
            s.vola_bhvr_type in HISTORY_CLASSES or s.id in HISTORY_RULES for s in self.rules
        )
        self._compiled = self._compile(stored)

    def close(self) -> None:
        self._mem.close()

    # ------------------------------------------------------------------ compile once
    def _compile(self, stored: Callable[[str], pa.Table | None]) -> _Compiled:
        import ibis

        backend = self._mem.ibis
        derived: list[tuple[str, Any]] = []

        def keep(expr: Any) -> Any:
            # A derived input (case, net lines, shared per-rule inputs) becomes a table of the
            # small engine, refilled from the batch before the rules run: the rules' query
            # reads it instead of recomputing it once per rule.
            name = f"_rt_derived_{len(derived)}"
            backend.create_table(name, schema=expr.schema())
            derived.append((name, expr))
            return backend.table(name)

        source = Source(table=backend.table, arrow=stored, cache=keep)
        inputs = bind(source, self.config)
        limit_cols = ("setl_id", "mdtrt_id", "psn_no", "medins_code", "unit", "amount", "text")
        parts = []
        specs: dict[str, tuple[RuleSpec, str]] = {}
        for spec in self.rules:
            entry = engine.rule_config(self.config["audit"], spec)
            h = engine.hits(spec, inputs, dict(entry.get("params") or {}))
            parts.append(h.select(*limit_cols, rule_id=ibis.literal(spec.id)))
            specs[spec.id] = (spec, str(entry.get("sev_deg", spec.sev_deg)))
        if not parts:
            return _Compiled(sql="", specs={})
        union = parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]
        # The parts of the rules that read only knowledge (catalog, restriction and knowledge
        # tables: DISTINCTs, filters, prefix joins among them) give the same rows for every
        # batch: computed once here into tables of the small engine, so a batch's query only
        # does the work that depends on its encounters.
        hoist = _Hoister(backend)
        exprs = hoist([expr for _, expr in derived] + [union])
        con = self._mem.con
        for i, (name, _) in enumerate(derived):
            con.execute(
                f'PREPARE _rt_refresh_{i} AS INSERT INTO "{name}" {backend.compile(exprs[i])}'
            )
        con.execute(f"PREPARE _rt_rules AS {backend.compile(exprs[-1])}")
        return _Compiled(
            sql="EXECUTE _rt_rules",
            specs=specs,
            keep=[exprs, inputs, derived],
            derived=[name for name, _ in derived],
            hoisted=hoist.count,
        )

    # ------------------------------------------------------------------ audit
    def audit(self, batch: Batch) -> pa.Table:
        """Findings (``finding`` rows of the stage) of the settlements in ``batch``."""
        setl = batch.get("setl_list")
        if setl is None or setl.num_rows == 0 or not self._compiled.sql:
            return FINDING.empty().cast(FINDING.arrow_schema())
        ids = setl.column("setl_id").to_pylist()
        extra: dict[str, pa.Table] = {}
        if self.needs_history:
            persons = sorted({p for p in setl.column("psn_no").to_pylist() if p})
            extra = self.history.rows(persons, ids)
        with self._lock:
            hits = self._run(batch, extra, setl)
        return self._assemble(hits, ids)

    def _run(self, batch: Batch, extra: dict[str, pa.Table], setl: pa.Table) -> pa.Table:
        store = self._mem
        with store.transaction():
            for name in ENCOUNTER_TABLES:
                store.con.execute(f'DELETE FROM "{name}"')
                for rows in (batch.get(name), extra.get(name)):
                    if rows is not None and rows.num_rows:
                        self._insert(name, rows)
            self._add_medins(setl)
            for i, name in enumerate(self._compiled.derived):
                store.con.execute(f'DELETE FROM "{name}"')
                store.con.execute(f"EXECUTE _rt_refresh_{i}")
        return store.con.sql(self._compiled.sql).to_arrow_table()

    def _insert(self, name: str, rows: pa.Table) -> None:
        """Rows of a canonical encounter table (``Store.write`` minus its per-call DDL)."""
        spec = table(name)
        if not rows.schema.equals(spec.arrow_schema(), check_metadata=False):
            unknown = set(rows.column_names) - set(spec.columns)
            if unknown:
                raise ValueError(f"table {name}: unknown columns {sorted(unknown)}")
            rows = spec.conform(rows)
        # An Arrow relation, not a registered view: registering changes the catalog, which
        # makes the prepared rule query bind again.
        self._mem.con.from_arrow(rows).insert_into(name)

    def _add_medins(self, setl: pa.Table) -> None:
        """Institutions unknown to the store (level unknown, as in the batch) get a bare row."""
        new = sorted(set(setl.column("medins_code").to_pylist()) - self._medins - {None})
        if new:
            self._mem.write("medins", pa.table({"medins_code": pa.array(new, pa.string())}))
            self._medins.update(new)

    def _assemble(self, hits: pa.Table, ids: list[str]) -> pa.Table:
        hits = hits.filter(pc.is_in(hits.column("setl_id"), pa.array(ids, pa.string())))
        limit = int(self.config["audit"].get("text_limit", 10))
        parts = []
        rule_col = hits.column("rule_id")
        for rule_id in sorted(set(rule_col.to_pylist())):
            spec, sev = self._compiled.specs[rule_id]
            part = hits.filter(pc.equal(rule_col, rule_id)).drop_columns(["rule_id"])
            parts.append(assemble(spec, part, stage=self.stage, sev_deg=sev, text_limit=limit))
        if not parts:
            return FINDING.empty().cast(FINDING.arrow_schema())
        return pa.concat_tables(parts).sort_by(
            [("rule_id", "ascending"), ("setl_id", "ascending"), ("jr_id", "ascending")]
        )


class _Hoister:
    """Replaces the knowledge-only subqueries of Ibis expressions by tables computed once.

    A relation is knowledge-only when every table it reads is an in-memory (Arrow) table,
    i.e. none of the encounter tables or derived inputs refilled per batch. Only the largest
    such relations (those read by a relation that is not knowledge-only) are materialized.
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.count = 0
        self._done: dict[Any, Any] = {}

    def __call__(self, exprs: list[Any]) -> list[Any]:
        return [self._one(e) for e in exprs]

    def _one(self, expr: Any) -> Any:
        import ibis.expr.operations as ops
        from ibis.common.graph import Graph

        root = expr.op()
        graph = Graph.from_bfs(root)
        order, _ = graph.toposort()
        const: dict[Any, bool] = {}
        for node in order:  # children before parents
            if isinstance(node, ops.InMemoryTable):
                const[node] = True
            elif isinstance(node, ops.PhysicalTable):
                const[node] = False
            else:
                const[node] = all(const[c] for c in graph[node])
        parents = graph.invert()
        mapping = {}
        for node in order:
            if not (const[node] and isinstance(node, ops.Relation)):
                continue
            if node is not root and all(const[p] for p in parents[node]):
                continue  # inside a larger knowledge-only relation
            # A join reads its tables through references (kept: fields point at them).
            target = node.parent if isinstance(node, ops.Reference) else node
            mapping[target] = self._materialize(target)
        return root.replace(mapping).to_expr() if mapping else expr

    def _materialize(self, node: Any) -> Any:
        if node not in self._done:
            name = f"_rt_kb_{self.count}"
            self.count += 1
            self.backend.create_table(name, obj=node.to_expr())
            self._done[node] = self.backend.table(name).op()
        return self._done[node]


def concat_batches(batches: Iterable[Batch]) -> dict[str, pa.Table]:
    """One batch of the encounter tables from several (each conformed to its canonical table)."""
    out: dict[str, pa.Table] = {}
    for name in ENCOUNTER_TABLES:
        spec = table(name)
        schema = spec.arrow_schema()
        tables = [
            b[name]
            if b[name].schema.equals(schema, check_metadata=False)
            else spec.conform(b[name])
            for b in batches
            if b.get(name) is not None
        ]
        out[name] = pa.concat_tables(tables) if tables else spec.arrow_schema().empty_table()
    return out


class MicroBatcher:
    """Collects concurrent audit requests for ``window`` seconds and audits them in one pass.

    ``submit`` is awaited by request handlers; one worker thread runs the auditor (its DuckDB
    connection is single-threaded anyway), so the event loop never blocks on a query.
    """

    def __init__(
        self, auditor: Callable[[], SingleAuditor], *, window: float = 0.004, max_batch: int = 64
    ) -> None:
        self._auditor = auditor
        self.window = window
        self.max_batch = max_batch
        self._queue: list[tuple[Batch, asyncio.Future[pa.Table]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.requests = 0

    async def submit(self, batch: Batch) -> pa.Table:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._loop())
        fut: asyncio.Future[pa.Table] = loop.create_future()
        self._queue.append((batch, fut))
        assert self._wake is not None
        self._wake.set()
        return await fut

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._queue:
                continue
            deadline = time.perf_counter() + self.window
            while len(self._queue) < self.max_batch and time.perf_counter() < deadline:
                await asyncio.sleep(min(0.001, max(deadline - time.perf_counter(), 0)))
            taken, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            if self._queue:
                self._wake.set()
            await self._flush(taken)

    async def _flush(self, taken: list[tuple[Batch, asyncio.Future[pa.Table]]]) -> None:
        self.batches += 1
        self.requests += len(taken)
        auditor = self._auditor()
        merged = concat_batches([b for b, _ in taken])
        try:
            findings = await asyncio.to_thread(auditor.audit, merged)
        except Exception as exc:  # every waiter learns of the failure; the loop keeps serving
            for _, fut in taken:
                if not fut.done():
                    fut.set_exception(exc)
            return
        by_setl = findings.column("setl_id").to_pylist()
        for b, fut in taken:
            mine = set(b["setl_list"].column("setl_id").to_pylist())
            mask = pa.array([s in mine for s in by_setl], pa.bool_())
            if not fut.done():
                fut.set_result(findings.filter(mask))
