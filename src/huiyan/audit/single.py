"""Audit of a few encounters at a time (real-time 3101/3102): the batch rules, evaluated on Arrow.

One rule library, two paths: the rule functions of ``audit.rules`` are bound (``inputs.bind``)
once to a small in-memory engine (``engine.SmallEngine``) and each enabled rule of the stage
becomes one expression. The parts of the rules that read only knowledge (catalog,
restrictions, knowledge tables) are computed once into tables (``_Hoister``), and shared
derived inputs (the case, net lines, restriction lookups) become named tables refilled per
batch. A batch is then evaluated by ``engine.arrow_eval.ArrowEvaluator`` directly over the
request's Arrow rows: nothing is planned per request. The findings are assembled by the batch
audit's own ``findings.assemble``, so rule ids, amounts, texts and ``jr_id`` are those of
``huiyan audit --stage`` for the same encounters (tests: every rule case on both, and the
3101 parity over a region).

Why not the engine itself: a kept statement of the analytic engine is bound and optimized
again on every run (profiled: ~3 ms of planning against ~0.06 ms of execution per rule
statement, about 100 ms per encounter in all). A rule using an operation the evaluator lacks
still runs as such a statement (``_Rule.arrow`` false; logged at start-up).

``_Reach`` decides, from what each rule reads (tables, the codes its filters and knowledge
joins ask for) and the batch's Arrow rows, which rules cannot give a row for this batch; only
the others are evaluated. ``MicroBatcher`` lets concurrent requests share one pass.
"""

from __future__ import annotations

import asyncio
import logging
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
LIMIT_COLUMNS = ("setl_id", "mdtrt_id", "psn_no", "medins_code", "unit", "amount", "text")

log = logging.getLogger(__name__)
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
class _Rule:
    spec: RuleSpec
    sev_deg: str
    statement: str
    op: Any  # the rule's hits (after hoisting), as an Ibis operation: what _Reach inspects
    encounter: frozenset[str]  # encounter tables it reads, directly or through derived ones
    derived: tuple[int, ...]  # derived tables it reads (with their own), in refill order
    arrow: bool = False  # evaluated on Arrow (no statement planned per run), else on the engine


@dataclass
class _Compiled:
    rules: list[_Rule] = field(default_factory=list)
    keep: list[Any] = field(default_factory=list)  # Ibis objects the SQL's memtables belong to
    derived: list[str] = field(default_factory=list)  # refilled in order before the rules
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
        from huiyan.engine import SmallEngine

        self.config = config
        self.stage = stage
        self.history = history or History()
        self._lock = threading.Lock()
        self._eng = SmallEngine()
        for name in STORE_TABLES:
            self._eng.ensure(name)
        medins = stored("medins")
        if medins is not None:
            self._eng.write("medins", medins.select(table("medins").columns))
        self._medins_rows = self._eng.read("medins")
        self._medins = set(self._medins_rows.column("medins_code").to_pylist())
        self.rules = engine.enabled_rules(config["audit"], stage=stage)
        self.needs_history = any(
            s.vola_bhvr_type in HISTORY_CLASSES or s.id in HISTORY_RULES for s in self.rules
        )
        self._prepared: set[str] = set()
        self._compiled = self._compile(stored)
        self.ran = 0  # rule statements run (all batches): how much pruning saves
        self.skipped = 0
        self.on_engine = 0  # of those, run as statements of the small engine (not on Arrow)

    def close(self) -> None:
        self._eng.close()

    # ------------------------------------------------------------------ compile once
    def _compile(self, stored: Callable[[str], pa.Table | None]) -> _Compiled:
        import ibis
        from ibis.common.graph import Graph

        eng = self._eng
        derived: list[tuple[str, Any]] = []

        def keep(expr: Any) -> Any:
            # A derived input (case, net lines, shared per-rule inputs) becomes a table of the
            # small engine, refilled from the batch before the rules run: the rules read it
            # instead of each computing it again.
            name = f"_rt_derived_{len(derived)}"
            out = eng.create(name, schema=expr.schema())
            derived.append((name, expr))
            return out

        source = Source(table=eng.ibis.table, arrow=stored, cache=keep)
        inputs = bind(source, self.config)
        parts = []
        for spec in self.rules:
            entry = engine.rule_config(self.config["audit"], spec)
            h = engine.hits(spec, inputs, dict(entry.get("params") or {}))
            parts.append((spec, str(entry.get("sev_deg", spec.sev_deg)), h.select(*LIMIT_COLUMNS)))
        if not parts:
            return _Compiled()
        # The parts of the rules that read only knowledge (catalog, restriction and knowledge
        # tables: DISTINCTs, filters, prefix joins among them) give the same rows for every
        # batch: computed once here into tables of the small engine, so a batch's statements
        # only do the work that depends on its encounters.
        hoist = _Hoister(lambda name, expr: eng.create(name, expr))
        exprs = hoist([expr for _, expr in derived] + [h for _, _, h in parts])
        names = [name for name, _ in derived]
        self._derived_ops = {name: exprs[i].op() for i, name in enumerate(names)}

        def reads(op: Any) -> set[str]:
            import ibis.expr.operations as ops

            return {n.name for n in Graph.from_bfs(op) if isinstance(n, ops.PhysicalTable)}

        # What each derived table reads, itself included, through the derived it reads.
        closure: list[tuple[set[str], set[int]]] = []
        for i in range(len(names)):
            direct = reads(exprs[i].op())
            enc = direct & set(ENCOUNTER_TABLES)
            ders = {names.index(n) for n in direct if n in names}
            for j in list(ders):
                enc |= closure[j][0]
                ders |= closure[j][1]
            closure.append((enc, ders | {i}))
        self._arrow = self._evaluator()
        rules = []
        for k, (spec, sev, _) in enumerate(parts):
            expr = exprs[len(names) + k]
            direct = reads(expr.op())
            enc = direct & set(ENCOUNTER_TABLES)
            used: set[int] = set()
            for j, name in enumerate(names):
                if name in direct:
                    enc |= closure[j][0]
                    used |= closure[j][1]
            rules.append(
                _Rule(
                    spec,
                    sev,
                    f"_rt_rule_{k}",
                    expr.op(),
                    frozenset(enc),
                    tuple(sorted(used)),
                    arrow=self._supported(expr),
                )
            )
        self._reach = _Reach(eng, self._derived_ops, ENCOUNTER_TABLES)
        return _Compiled(
            rules=rules, keep=[exprs, inputs, derived, ibis], derived=names, hoisted=hoist.count
        )

    def _evaluator(self) -> Any:
        from huiyan.engine.arrow_eval import ArrowEvaluator

        kb: dict[str, pa.Table] = {}

        def constant(name: str) -> pa.Table | None:
            if not name.startswith("_rt_kb_"):
                return None
            if name not in kb:
                kb[name] = self._eng.read(name)
            return kb[name]

        return ArrowEvaluator(constant=constant, derived=self._derived_ops)

    def _supported(self, expr: Any) -> bool:
        from huiyan.engine.arrow_eval import Unsupported

        try:
            self._arrow.check(expr)
        except Unsupported as exc:
            log.info("real-time rule kept on the engine: %s", exc)
            return False
        return True

    def warm(self, sample: Batch | None = None) -> None:
        """Compute at load what the first batches would otherwise pay for (seconds of latency
        over each worker's first requests): the knowledge-only relations every rule reads,
        and, run on ``sample`` (a few stored encounters) with every rule, the knowledge
        indexes the joins probe and the reach tests. Findings are not kept."""
        rules = self._compiled.rules
        with self._lock:
            for r in rules:
                if r.arrow:
                    self._arrow.prepare(r.op)
            setl = None if sample is None else sample.get("setl_list")
            if sample is None or setl is None or setl.num_rows == 0:
                return
            env = self._reach.env(sample, {})
            for r in rules:
                self._reach.may(r.op, env)
            self._run_arrow([r for r in rules if r.arrow], sample, {}, setl)

    # ------------------------------------------------------------------ audit
    def audit(self, batch: Batch) -> pa.Table:
        """Findings (``finding`` rows of the stage) of the settlements in ``batch``."""
        setl = batch.get("setl_list")
        if setl is None or setl.num_rows == 0 or not self._compiled.rules:
            return FINDING.empty_result()
        ids = setl.column("setl_id").to_pylist()
        extra: dict[str, pa.Table] = {}
        if self.needs_history:
            persons = sorted({p for p in setl.column("psn_no").to_pylist() if p})
            extra = self.history.rows(persons, ids)
        env = self._reach.env(batch, extra)
        todo = [r for r in self._compiled.rules if self._reach.may(r.op, env)]
        self.ran += len(todo)
        self.skipped += len(self._compiled.rules) - len(todo)
        if not todo:
            return FINDING.empty_result()
        with self._lock:
            hits = self._run_arrow([r for r in todo if r.arrow], batch, extra, setl)
            slow = [r for r in todo if not r.arrow]
            if slow:
                self.on_engine += len(slow)
                hits += self._run(slow, batch, extra, setl)
        return self._assemble(hits, ids)

    def _run_arrow(
        self, todo: list[_Rule], batch: Batch, extra: dict[str, pa.Table], setl: pa.Table
    ) -> list[tuple[_Rule, pa.Table]]:
        if not todo:
            return []
        self._add_medins(setl)
        tables: dict[str, pa.Table] = {"medins": self._medins_rows}
        for name in ENCOUNTER_TABLES:
            parts = [p for p in (batch.get(name), extra.get(name)) if p is not None]
            if parts:
                tables[name] = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
        memo: dict[Any, Any] = {}
        return [(r, self._arrow.run(r.op, tables, memo)) for r in todo]

    def _run(
        self, todo: list[_Rule], batch: Batch, extra: dict[str, pa.Table], setl: pa.Table
    ) -> list[tuple[_Rule, pa.Table]]:
        eng = self._eng
        # Only the tables the rules to run read: the others keep an earlier batch's rows,
        # which no statement run now reads.
        tables = set().union(*(r.encounter for r in todo))
        derived = sorted(set().union(*(r.derived for r in todo)))
        names = self._compiled.derived
        for i in derived:
            self._prepare(f"_rt_refresh_{i}", self._derived_ops[names[i]], into=names[i])
        for r in todo:
            self._prepare(r.statement, r.op)
        with eng.transaction():
            for name in ENCOUNTER_TABLES:
                if name in tables:
                    parts = (batch.get(name), extra.get(name))
                    eng.feed(name, [p for p in parts if p is not None])
            self._add_medins(setl)
            for i in derived:
                eng.clear(self._compiled.derived[i])
                eng.run(f"_rt_refresh_{i}")
        return [(r, eng.query(r.statement)) for r in todo]

    def _prepare(self, statement: str, op: Any, into: str | None = None) -> None:
        """Keep ``op`` as a statement of the small engine on first use (only rules the Arrow
        evaluator cannot run need one: preparing every rule cost start-up and reload time)."""
        if statement in self._prepared:
            return
        sql = self._eng.compile(op.to_expr())
        self._eng.prepare(statement, sql if into is None else f'INSERT INTO "{into}" {sql}')
        self._prepared.add(statement)

    def _add_medins(self, setl: pa.Table) -> None:
        """Institutions unknown to the store (level unknown, as in the batch) get a bare row."""
        new = sorted(set(setl.column("medins_code").to_pylist()) - self._medins - {None})
        if new:
            self._eng.write("medins", pa.table({"medins_code": pa.array(new, pa.string())}))
            self._medins.update(new)
            self._medins_rows = self._eng.read("medins")

    def _assemble(self, hits: list[tuple[_Rule, pa.Table]], ids: list[str]) -> pa.Table:
        wanted = pa.array(ids, pa.string())
        limit = int(self.config["audit"].get("text_limit", 10))
        parts = []
        for rule, rows in sorted(hits, key=lambda h: h[0].spec.id):
            if not rows.num_rows:
                continue
            rows = rows.filter(pc.is_in(rows.column("setl_id"), wanted))
            if rows.num_rows:
                parts.append(
                    assemble(
                        rule.spec, rows, stage=self.stage, sev_deg=rule.sev_deg, text_limit=limit
                    )
                )
        if not parts:
            return FINDING.empty_result()
        return pa.concat_tables(parts).sort_by(
            [("rule_id", "ascending"), ("setl_id", "ascending"), ("jr_id", "ascending")]
        )


class _Hoister:
    """Replaces the knowledge-only subqueries of Ibis expressions by tables computed once.

    A relation is knowledge-only when every table it reads is an in-memory (Arrow) table,
    i.e. none of the encounter tables or derived inputs refilled per batch. Only the largest
    such relations (those read by a relation that is not knowledge-only) are materialized.
    """

    def __init__(self, create: Callable[[str, Any], Any]) -> None:
        self.create = create  # (name, expr) -> the table of the engine holding expr's rows
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
            self._done[node] = self.create(name, node.to_expr()).op()
        return self._done[node]


_Values = frozenset[Any] | None  # the values a column can take; None: not known
_SOURCE_FIELD = ("batch", "kb")


class _Reach:
    """Decides, on a batch's Arrow rows, whether a rule's hits can be non-empty.

    Generic over the rules' Ibis operations (no rule is named): a table of the batch with no
    rows is empty; a filter ``code IN (...)`` / ``code = '...'`` / ``starts_with(code, ...)`` /
    ``contains(code, ...)`` on a column that comes unchanged from an encounter table is empty when no value of that
    column in the batch passes; an inner join on such a column with a knowledge table (or a
    prefix join) is empty when the batch's values and the knowledge's do not meet. Everything
    else is assumed non-empty, so a rule is skipped only when it provably gives no rows.
    """

    def __init__(self, eng: Any, derived: dict[str, Any], encounter: Sequence[str]) -> None:
        self._eng = eng
        self._derived = derived  # derived table name -> the operation refilling it
        self._encounter = frozenset(encounter)
        self._sources: dict[Any, tuple[str, str, str] | None] = {}
        self._kb: dict[tuple[str, str], frozenset[Any]] = {}
        self._kb_rows: dict[str, int] = {}
        self._tests: dict[Any, Callable[[dict[Any, Any]], bool]] = {}

    # -------------------------------------------------------------- per batch
    def env(self, batch: Batch, extra: Mapping[str, pa.Table]) -> dict[Any, Any]:
        env: dict[Any, Any] = {"batch": batch, "extra": extra}
        return env

    def _rows(self, name: str, env: dict[Any, Any]) -> int:
        return sum(
            t.num_rows for t in (env["batch"].get(name), env["extra"].get(name)) if t is not None
        )

    def _batch_values(self, name: str, column: str, env: dict[Any, Any]) -> frozenset[Any]:
        key = ("v", name, column)
        if key not in env:
            values: set[Any] = set()
            for t in (env["batch"].get(name), env["extra"].get(name)):
                if t is not None and column in t.column_names:
                    values.update(pc.unique(t.column(column)).to_pylist())
            values.discard(None)
            env[key] = frozenset(values)
        return env[key]

    # -------------------------------------------------------------- relations
    def may(self, op: Any, env: dict[Any, Any]) -> bool:
        """False only when the relation ``op`` has no rows for the batch in ``env``."""
        return self._test(op)(env)

    def _test(self, op: Any) -> Callable[[dict[Any, Any]], bool]:
        """``op``'s test compiled once into a closure: the analysis of the operations is done
        at start-up, a batch only evaluates it (memoized per batch, shared parts once)."""
        got = self._tests.get(op)
        if got is None:
            inner = self._build(op)

            def test(env: dict[Any, Any], key: int = id(op)) -> bool:
                hit = env.get(key)
                if hit is None:
                    hit = env[key] = inner(env)
                return hit

            got = self._tests[op] = test
        return got

    def _build(self, op: Any) -> Callable[[dict[Any, Any]], bool]:  # noqa: C901 - one dispatch
        import ibis.expr.operations as ops

        always: Callable[[dict[Any, Any]], bool] = lambda env: True  # noqa: E731
        if isinstance(op, ops.DatabaseTable):
            name = op.name
            if name in self._encounter:
                return lambda env: self._rows(name, env) > 0
            if name in self._derived:
                return self._test(self._derived[name])
            if name.startswith("_rt_kb_"):
                nonempty = self._kb_count(name) > 0
                return lambda env: nonempty
            return always
        if isinstance(op, ops.Filter):
            parts = [self._test(op.parent), *(self._holds(p) for p in op.predicates)]
            return lambda env: all(t(env) for t in parts)
        if isinstance(
            op,
            (
                ops.Project,
                ops.Sort,
                ops.Distinct,
                ops.DropColumns,
                ops.DropNull,
                ops.FillNull,
                ops.Reference,
            ),
        ):
            return self._test(op.parent)
        if isinstance(op, ops.Limit):
            if isinstance(op.n, int) and op.n <= 0:
                return lambda env: False
            return self._test(op.parent)
        if isinstance(op, ops.Aggregate):
            # Without groups an aggregate has one row even over nothing.
            return self._test(op.parent) if op.groups else always
        if isinstance(op, ops.JoinChain):
            steps: list[tuple[str, list[Callable[[dict[Any, Any]], bool]]]] = []
            for link in op.rest:
                if link.how in ("inner", "semi", "any_inner", "cross"):
                    tests = [self._test(link.table), *(self._holds(p) for p in link.predicates)]
                    steps.append(("and", tests))
                elif link.how in ("left", "any_left", "anti"):
                    continue
                elif link.how == "right":
                    steps.append(("set", [self._test(link.table)]))
                elif link.how == "outer":
                    steps.append(("or", [self._test(link.table)]))
                else:
                    return always
            first = self._test(op.first)

            def join(env: dict[Any, Any]) -> bool:
                cur = first(env)
                for how, tests in steps:
                    if how == "and":
                        cur = cur and all(t(env) for t in tests)
                    elif how == "set":
                        cur = tests[0](env)
                    else:
                        cur = cur or tests[0](env)
                return cur

            return join
        if isinstance(op, ops.Union):
            left, right = self._test(op.left), self._test(op.right)
            return lambda env: left(env) or right(env)
        if isinstance(op, ops.Difference):
            return self._test(op.left)
        if isinstance(op, ops.Intersection):
            left, right = self._test(op.left), self._test(op.right)
            return lambda env: left(env) and right(env)
        return always

    # -------------------------------------------------------------- predicates
    def _holds(self, pred: Any) -> Callable[[dict[Any, Any]], bool]:
        """A test false only when no row of the batch can satisfy ``pred``."""
        import ibis.expr.operations as ops

        always: Callable[[dict[Any, Any]], bool] = lambda env: True  # noqa: E731
        if isinstance(pred, ops.And):
            left, right = self._holds(pred.left), self._holds(pred.right)
            return lambda env: left(env) and right(env)
        if isinstance(pred, ops.InValues):
            have = self._values(pred.value)
            opts = [self._values(o) for o in pred.options]
            if have is None or any(o is None for o in opts):
                return always
            return lambda env: any(bool(have(env) & o(env)) for o in opts if o is not None)
        if isinstance(pred, ops.Equals):
            lvalues, rvalues = self._values(pred.left), self._values(pred.right)
            if lvalues is None or rvalues is None:
                return always
            return lambda env: bool(lvalues(env) & rvalues(env))
        if isinstance(pred, ops.StringContains):
            hay, needles = self._values(pred.haystack), self._values(pred.needle)
            if hay is None or needles is None:
                return always
            return lambda env: any(n in v for v in hay(env) for n in needles(env))
        if isinstance(pred, ops.StartsWith):
            codes, starts = self._values(pred.arg), self._values(pred.start)
            if codes is None or starts is None:
                return always

            def prefix(env: dict[Any, Any]) -> bool:
                prefixes = starts(env)
                lengths = {len(p) for p in prefixes}
                return any(v[:n] in prefixes for v in codes(env) for n in lengths)

            return prefix
        return always

    def _values(self, value: Any) -> Callable[[dict[Any, Any]], frozenset[Any]] | None:
        """The string values ``value`` can take on a batch (a superset), or None: unknown."""
        import ibis.expr.operations as ops

        if not value.dtype.is_string():
            return None
        if isinstance(value, ops.Literal):
            if not isinstance(value.value, str):
                return None
            fixed = frozenset([value.value])
            return lambda env: fixed
        if not isinstance(value, ops.Field):
            return None
        src = self._source(value)
        if src is None:
            return None
        kind, name, column = src
        if kind == "kb":
            known = self._kb_values(name, column)
            return lambda env: known
        return lambda env: self._batch_values(name, column, env)

    def _source(self, field_: Any) -> tuple[str, str, str] | None:
        """Where a column comes from unchanged: (batch|kb, table, column), else None."""
        if field_ not in self._sources:
            self._sources[field_] = self._trace(field_.rel, field_.name)
        return self._sources[field_]

    def _trace(self, rel: Any, name: str) -> tuple[str, str, str] | None:
        import ibis.expr.operations as ops

        for _ in range(1000):  # a chain of passthrough relations; bounded for safety
            if isinstance(rel, ops.DatabaseTable):
                if rel.name in self._encounter:
                    return ("batch", rel.name, name)
                if rel.name in self._derived:
                    rel = self._derived[rel.name]
                    continue
                if rel.name.startswith("_rt_kb_"):
                    return ("kb", rel.name, name)
                return None
            if isinstance(
                rel,
                ops.Filter
                | ops.Sort
                | ops.Distinct
                | ops.DropColumns
                | ops.DropNull
                | ops.Limit
                | ops.Reference,
            ):
                rel = rel.parent
                continue
            if isinstance(rel, ops.Project | ops.JoinChain):
                v = rel.values.get(name)
            elif isinstance(rel, ops.Aggregate):
                v = rel.groups.get(name)
            else:
                return None
            if not isinstance(v, ops.Field):
                return None
            rel, name = v.rel, v.name
        return None

    # -------------------------------------------------------------- knowledge (once)
    def _kb_values(self, name: str, column: str) -> frozenset[Any]:
        key = (name, column)
        if key not in self._kb:
            rows = self._eng.distinct(name, column)
            self._kb[key] = frozenset(v for v in rows if v is not None)
        return self._kb[key]

    def _kb_count(self, name: str) -> int:
        if name not in self._kb_rows:
            self._kb_rows[name] = self._eng.count(name)
        return self._kb_rows[name]


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
        out[name] = pa.concat_tables(tables) if tables else spec.empty_result()
    return out


class MicroBatcher:
    """Collects concurrent audit requests for ``window`` seconds and audits them in one pass.

    ``submit`` is awaited by request handlers. The pass runs on the event loop itself: it is
    CPU-bound Python (~10 ms for a few encounters), and in a worker thread it competed with
    the loop for the interpreter lock on every read and write of the loop's connections:
    measured under ``benchmarks/realtime.py`` at 300 requests/s, p99 88-128 ms in a thread
    against 64-81 ms on the loop. Requests arriving during a pass wait in the sockets and
    form the next one. Only the first load of the knowledge (seconds), when ``ready()`` is
    false, is waited for in a thread, so the loop keeps answering other endpoints meanwhile.
    """

    def __init__(
        self,
        auditor: Callable[[], SingleAuditor],
        *,
        ready: Callable[[], bool] = lambda: True,
        window: float = 0.004,
        max_batch: int = 64,
    ) -> None:
        self._auditor = auditor
        self._ready = ready
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
        merged = concat_batches([b for b, _ in taken])
        try:
            auditor = self._auditor() if self._ready() else await asyncio.to_thread(self._auditor)
            findings = auditor.audit(merged)
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
