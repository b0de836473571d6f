"""Ibis table expressions evaluated directly on small Arrow tables: nothing planned per run.

The real-time audit runs the batch audit's own rule expressions on one encounter at a time.
An analytic engine binds and optimizes every statement on every run (measured in the small
engine: ~3 ms of planning against ~0.06 ms of execution per rule statement), which is most of
a request's budget. ``ArrowEvaluator`` instead walks the expression's operation graph
directly with Arrow compute kernels: per run it only evaluates, and what reads knowledge only
(constant tables) is computed once and kept, with the hash indexes of the joins that probe it.

Semantics are those of the local store's SQL for what the rules use (the batch audit runs
there, and the real-time answer must be the same): SQL null logic, decimal arithmetic exact
at the local store's scales, casts rounding half away from zero, ``greatest`` ignoring nulls,
texts of numbers and times formatted as the local store formats them. An operation outside
this set raises ``Unsupported`` when the expression is checked, before any run, so a caller
can keep that expression on the engine.

Meant for a few thousand rows: joins are hash joins over Python tuples and a few operations
(decimal arithmetic that would overflow Arrow's precision, per-row string lengths) fall back
to per-value Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ArrowEvaluator", "Unsupported"]


class Unsupported(Exception):
    """The expression uses an operation this evaluator does not implement."""


# A column (``pa.Array``) or a value the same on every row (``pa.Scalar``).
Value: TypeAlias = Any


# ---------------------------------------------------------------------------- relations
class _Rel:
    """A relation's rows: the row count is known, each column is computed on first use.

    Rules keep few of the columns their inputs carry (a finding needs the case ids, a unit,
    an amount and a text), so computing columns only when something reads them saves most of
    the work on a small batch.
    """

    __slots__ = ("_cols", "_make", "n")

    def __init__(self, n: int, make: Callable[[str], pa.Array]) -> None:
        self.n = n
        self._make = make
        self._cols: dict[str, pa.Array] = {}

    @classmethod
    def of(cls, table: pa.Table, schema: pa.Schema | None = None) -> _Rel:
        """The rows of ``table`` (its columns cast to ``schema``'s types on use)."""

        def make(name: str) -> pa.Array:
            col = table.column(name)
            arr = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
            if schema is not None:
                want = schema.field(name).type
                if arr.type != want:
                    arr = _cast_arrow(arr, want)
            return arr

        return cls(table.num_rows, make)

    def column(self, name: str) -> pa.Array:
        got = self._cols.get(name)
        if got is None:
            got = self._cols[name] = self._make(name)
        return got

    def table(self, schema: pa.Schema) -> pa.Table:
        return pa.Table.from_arrays(
            [_broadcast(self.column(f.name), self.n, f.type) for f in schema], schema=schema
        )


class _Frame:
    """The rows a value is evaluated over: relations (by operation) taken at row indices."""

    __slots__ = ("idx", "memo", "n", "rels")

    def __init__(
        self,
        rels: Mapping[Any, _Rel],
        n: int,
        idx: Mapping[Any, pa.Array] | None = None,
    ) -> None:
        self.rels = rels
        self.n = n
        self.idx = idx or {}
        self.memo: dict[int, Value] = {}  # by id(operation): alive while the frame is

    def column(self, rel: Any, name: str) -> pa.Array:
        r = self.rels.get(rel)
        if r is None:
            raise Unsupported(f"field {name} of a relation outside the frame")
        col = r.column(name)
        ix = self.idx.get(rel)
        return col if ix is None else col.take(ix)


def _broadcast(v: Value, n: int, type_: pa.DataType | None = None) -> pa.Array:
    if isinstance(v, pa.Scalar):
        t = type_ or v.type
        if not v.is_valid:
            return pa.nulls(n, t)
        arr = pa.array([v.as_py()] * n, type=v.type)
        return arr if t == v.type else _cast_arrow(arr, t)
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    return v if type_ is None or v.type == type_ else _cast_arrow(v, type_)


# ---------------------------------------------------------------------------- the evaluator
class ArrowEvaluator:
    """Evaluates Ibis table expressions over Arrow tables given per run.

    ``constant(name)`` gives the rows of a table that do not change between runs (knowledge),
    or None; ``derived`` maps a table name to the expression whose rows it holds (evaluated
    on demand, once per run). Every other table is read from the run's ``tables``.
    """

    def __init__(
        self,
        *,
        constant: Callable[[str], pa.Table | None] = lambda _n: None,
        derived: Mapping[str, Any] | None = None,
    ) -> None:
        self._constant_source = constant
        self._derived = dict(derived or {})
        # Caches by id(operation) (ints hash in C, operations through Python), each entry
        # holding its operation so that an id reused by a later object is not mistaken for it.
        self._const: dict[int, tuple[Any, _Rel]] = {}  # constant relations, kept across runs
        self._is_const: dict[int, tuple[Any, bool]] = {}
        self._index: dict[Any, _KeyIndex] = {}  # hash indexes of knowledge, kept
        self._prefix: dict[Any, tuple[list[int], dict[str, list[int]]]] = {}
        self._schema: dict[int, tuple[Any, pa.Schema]] = {}
        self._empties: dict[int, tuple[Any, _Rel]] = {}
        self._fixed: dict[int, tuple[Any, Value | None]] = {}  # values reading no field: once
        self._links: dict[Any, tuple[list[Any], list[Any], list[Any], Any]] = {}
        self._reductions: dict[Any, list[Any]] = {}

    def _arrow_schema(self, op: Any) -> pa.Schema:
        got = self._schema.get(id(op))
        if got is None or got[0] is not op:
            got = self._schema[id(op)] = (op, op.schema.to_pyarrow())
        return got[1]

    def _empty(self, op: Any) -> _Rel:
        got = self._empties.get(id(op))
        if got is None or got[0] is not op:
            got = self._empties[id(op)] = (op, _Rel.of(self._arrow_schema(op).empty_table()))
        return got[1]

    # ------------------------------------------------------------------ checking
    def check(self, expr: Any) -> None:
        """Raise ``Unsupported`` naming the first operation of ``expr`` not implemented."""
        import ibis.expr.operations as ops
        from ibis.common.graph import Graph

        seen = set()
        todo = [expr.op() if hasattr(expr, "op") else expr]
        while todo:
            root = todo.pop()
            for node in Graph.from_bfs(root):
                if node in seen:
                    continue
                seen.add(node)
                name = type(node).__name__
                if isinstance(node, ops.DatabaseTable) and node.name in self._derived:
                    todo.append(self._derived[node.name])
                if name not in _SUPPORTED:
                    raise Unsupported(name)
                if isinstance(node, ops.WindowFunction) and (
                    node.start is not None or node.end is not None
                ):
                    raise Unsupported("window frame bounds")
                if isinstance(node, ops.JoinLink) and node.how not in _JOINS:
                    raise Unsupported(f"{node.how} join")

    # ------------------------------------------------------------------ running
    def run(self, expr: Any, tables: Mapping[str, pa.Table], memo: dict[Any, Any]) -> pa.Table:
        """The rows of table expression ``expr`` given the run's ``tables``; ``memo`` is
        shared by the expressions of one run (a relation several read is evaluated once)."""
        op = expr.op() if hasattr(expr, "op") else expr
        return self._rel(op, tables, memo).table(self._arrow_schema(op))

    def _rel(self, op: Any, tables: Mapping[str, pa.Table], memo: dict[Any, Any]) -> _Rel:
        if self._constant(op):
            kept = self._const.get(id(op))
            if kept is None or kept[0] is not op:
                kept = self._const[id(op)] = (op, self._eval_rel(op, tables, {}))
            return kept[1]
        hit = memo.get(id(op))
        if hit is None:
            hit = memo[id(op)] = self._eval_rel(op, tables, memo)
        return hit

    def _constant(self, op: Any) -> bool:
        kept = self._is_const.get(id(op))
        if kept is not None and kept[0] is op:
            return kept[1]
        import ibis.expr.operations as ops

        if isinstance(op, ops.InMemoryTable):
            got = True
        elif isinstance(op, ops.DatabaseTable):
            if op.name in self._derived:
                got = self._constant(self._derived[op.name])
            else:
                got = self._constant_source(op.name) is not None
        else:
            got = all(self._constant(r) for r in _relations_below(op))
        self._is_const[id(op)] = (op, got)
        return got

    def _eval_rel(  # noqa: C901 - one dispatch over the relation operations
        self, op: Any, tables: Mapping[str, pa.Table], memo: dict[Any, Any]
    ) -> _Rel:
        import ibis.expr.operations as ops

        rel = lambda o: self._rel(o, tables, memo)  # noqa: E731
        if isinstance(op, ops.DatabaseTable):
            if op.name in self._derived:
                return rel(self._derived[op.name])
            const = self._constant_source(op.name)
            if const is None:
                const = tables.get(op.name)
            if const is None or const.num_rows == 0:
                return self._empty(op)
            return _Rel.of(const, self._arrow_schema(op))
        if isinstance(op, ops.InMemoryTable):
            return _Rel.of(op.data.to_pyarrow(op.schema), self._arrow_schema(op))
        if isinstance(op, (ops.JoinReference, ops.SelfReference, ops.DropColumns)):
            return rel(op.parent)
        if isinstance(op, ops.Project):
            parent = rel(op.parent)
            if parent.n == 0:
                return self._empty(op)
            frame = _Frame({op.parent: parent}, parent.n)
            values = op.values
            return _Rel(parent.n, lambda name: _broadcast(self._val(values[name], frame), frame.n))
        if isinstance(op, ops.Filter):
            parent = rel(op.parent)
            if parent.n == 0:
                return parent
            frame = _Frame({op.parent: parent}, parent.n)
            rows = pa.array(np.flatnonzero(np.asarray(self._mask(op.predicates, frame))))
            if len(rows) == parent.n:
                return parent
            return _Rel(len(rows), lambda name: parent.column(name).take(rows))
        if isinstance(op, ops.Distinct):
            parent = rel(op.parent)
            return _Rel.of(_distinct(parent.table(self._arrow_schema(op))))
        if isinstance(op, ops.Sort):
            parent = rel(op.parent)
            frame = _Frame({op.parent: parent}, parent.n)
            order = self._order(op.keys, frame)
            return _Rel(parent.n, lambda name: parent.column(name).take(order))
        if isinstance(op, ops.Limit):
            parent = rel(op.parent)
            start = min(int(op.offset or 0), parent.n)
            stop = parent.n if op.n is None else min(parent.n, start + int(op.n))
            return _Rel(stop - start, lambda name: parent.column(name).slice(start, stop - start))
        if isinstance(op, ops.Union):
            left, right = rel(op.left), rel(op.right)
            schema = self._arrow_schema(op)

            def union(name: str) -> pa.Array:
                t = schema.field(name).type
                parts = [_broadcast(r.column(name), r.n, t) for r in (left, right)]
                return pa.concat_arrays(parts)

            out = _Rel(left.n + right.n, union)
            return _Rel.of(_distinct(out.table(schema))) if op.distinct else out
        if isinstance(op, ops.Aggregate):
            parent = rel(op.parent)
            if parent.n == 0 and op.groups:
                return self._empty(op)
            return self._aggregate(op, parent)
        if isinstance(op, ops.JoinChain):
            return self._join(op, rel)
        raise Unsupported(type(op).__name__)

    # ------------------------------------------------------------------ relations
    def _mask(self, predicates: Any, frame: _Frame) -> pa.Array:
        mask = None
        for p in predicates:
            v = _bool_true(_broadcast(self._val(p, frame), frame.n, pa.bool_()))
            mask = v if mask is None else pc.and_(mask, v)
        return mask if mask is not None else pa.array(np.ones(frame.n, dtype=bool))

    def _order(self, keys: Any, frame: _Frame) -> pa.Array:
        cols, order = [], []
        for i, k in enumerate(keys):
            cols.append(_broadcast(self._val(k.arg, frame), frame.n))
            placement = "at_start" if k.nulls_first else "at_end"
            order.append((f"k{i}", "ascending" if k.ascending else "descending", placement))
        if not cols:
            return pa.array(np.arange(frame.n))
        t = pa.Table.from_arrays(cols, names=[f"k{i}" for i in range(len(cols))])
        return pc.sort_indices(t, sort_keys=order)

    def _aggregate(self, op: Any, parent: _Rel) -> _Rel:

        n = parent.n
        frame = _Frame({op.parent: parent}, n)
        keys = [_broadcast(self._val(g, frame), n) for g in op.groups.values()]
        if op.groups:
            gid, starts, ngroups = _group_ids(keys, n)
        else:
            gid, starts, ngroups = np.zeros(n, dtype=np.int64), np.zeros(1, np.int64), 1
        grouped = {name: k.take(pa.array(starts)) for name, k in zip(op.groups, keys, strict=True)}
        gframe = _Frame({}, ngroups)
        metrics = op.metrics

        def column(name: str) -> pa.Array:
            if name in grouped:
                return grouped[name]
            for node in self._metric_reductions(op, name):
                if id(node) not in gframe.memo:
                    gframe.memo[id(node)] = self._reduce(node, frame, gid, ngroups)
            return _broadcast(self._val(metrics[name], gframe), ngroups)

        return _Rel(ngroups, column)

    def _metric_reductions(self, op: Any, name: str) -> list[Any]:
        """The reductions metric ``name`` of aggregate ``op`` is computed from."""
        import ibis.expr.operations as ops
        from ibis.common.graph import Graph

        key = (op, name)
        got = self._reductions.get(key)
        if got is None:
            got = self._reductions[key] = [
                node
                for node in Graph.from_bfs(op.metrics[name], filter=ops.Value)
                if isinstance(node, ops.Reduction)
            ]
        return got

    def _reduce(self, node: Any, frame: _Frame, gid: np.ndarray, ngroups: int) -> pa.Array:
        import ibis.expr.operations as ops

        n = frame.n
        where = None
        if getattr(node, "where", None) is not None:
            where = _bool_true(_broadcast(self._val(node.where, frame), n, pa.bool_()))
        if isinstance(node, ops.CountStar):
            ones = pa.array(np.ones(n, dtype=np.int64))
            if where is not None:
                ones = pc.if_else(where, ones, 0)
            return _grouped(ones, gid, ngroups, "sum", fill=0)
        arg = _broadcast(self._val(node.arg, frame), n)
        if where is not None:
            arg = pc.if_else(where, arg, pa.scalar(None, arg.type))
        if isinstance(node, ops.Count):
            return _grouped(pc.is_valid(arg).cast(pa.int64()), gid, ngroups, "sum", fill=0)
        if isinstance(node, ops.CountDistinct):
            return _grouped(arg, gid, ngroups, "count_distinct", fill=0)
        if isinstance(node, ops.Sum):
            if pa.types.is_decimal(arg.type):
                arg = _cast_arrow(arg, pa.decimal128(38, arg.type.scale))
            elif pa.types.is_integer(arg.type) or pa.types.is_boolean(arg.type):
                arg = arg.cast(pa.int64())
            return _grouped(arg, gid, ngroups, "sum")
        if isinstance(node, ops.Mean):
            if pa.types.is_decimal(arg.type) or pa.types.is_integer(arg.type):
                arg = arg.cast(pa.float64())
            return _grouped(arg, gid, ngroups, "mean")
        if isinstance(node, (ops.Max, ops.Min)):
            return _grouped(arg, gid, ngroups, "max" if isinstance(node, ops.Max) else "min")
        if isinstance(node, ops.GroupConcat):
            sep = self._val(node.sep, _Frame({}, 1))
            order = np.arange(n)
            if node.order_by:
                order = np.asarray(self._order(node.order_by, frame))
            return _group_concat(arg, gid, ngroups, order, sep.as_py())
        raise Unsupported(type(node).__name__)

    def _join(self, op: Any, rel: Callable[[Any], _Rel]) -> _Rel:
        base: dict[Any, _Rel] = {op.first: rel(op.first.parent)}
        idx: dict[Any, pa.Array | None] = {op.first: None}
        n = base[op.first].n
        for link in op.rest:
            if n == 0 and link.how in ("inner", "left", "semi", "anti", "cross"):
                return self._empty(op)
            ref = link.table
            right = rel(ref.parent)
            if right.n == 0 and link.how in ("inner", "semi", "right", "cross"):
                return self._empty(op)
            base[ref] = right
            left = _Frame(base, n, {k: v for k, v in idx.items() if v is not None})
            li, ri = self._pairs(link, left, ref, right)
            if link.how in ("semi", "anti"):
                matched = np.zeros(n, dtype=bool)
                matched[li] = True
                keep = np.flatnonzero(matched if link.how == "semi" else ~matched)
                idx = {k: _take_idx(v, keep) for k, v in idx.items()}
                del base[ref]
                n = len(keep)
                continue
            if link.how in ("left", "outer"):
                hit = np.zeros(n, dtype=bool)
                hit[li] = True
                missing = np.flatnonzero(~hit)
                li = np.concatenate([li, missing])
                ri = np.concatenate([ri, np.full(len(missing), -1, dtype=np.int64)])
            if link.how in ("right", "outer"):
                hit = np.zeros(right.n, dtype=bool)
                hit[ri[ri >= 0]] = True
                missing = np.flatnonzero(~hit)
                li = np.concatenate([li, np.full(len(missing), -1, dtype=np.int64)])
                ri = np.concatenate([ri, missing])
            if not _identity(li, n):
                idx = {k: _take_idx(v, li) for k, v in idx.items()}
            idx[ref] = None if _identity(ri, right.n) else _as_indices(ri)
            n = len(li)
        if n == 0:
            return self._empty(op)
        frame = _Frame(base, n, {k: v for k, v in idx.items() if v is not None})
        values = op.values
        return _Rel(n, lambda name: _broadcast(self._val(values[name], frame), n))

    def _pairs(
        self, link: Any, left: _Frame, ref: Any, right: _Rel
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row pairs (left, right) satisfying every predicate of ``link``."""
        if link.how == "cross" or not link.predicates:
            li = np.repeat(np.arange(left.n), right.n)
            ri = np.tile(np.arange(right.n), left.n)
            return li, ri
        rframe = _Frame({ref: right}, right.n)
        plan = self._links.get(link)
        if plan is None:
            plan = self._links[link] = _link_plan(link, ref)
        lkeys, rkeys, residual, prefix = plan
        residual = list(residual)
        if lkeys:
            li, ri = self._hash_pairs(ref, lkeys, rkeys, left, rframe)
        elif prefix is not None:
            li, ri = self._prefix_pairs(ref, prefix, left, rframe)
            prefix = None
        else:
            li = np.repeat(np.arange(left.n), right.n)
            ri = np.tile(np.arange(right.n), left.n)
        if prefix is not None:
            residual.append(prefix)
        if residual and len(li):
            rels = dict(left.rels)
            rels[ref] = right
            idx = {k: _take_idx(v, li) for k, v in left.idx.items()}
            for k in left.rels:
                if k not in idx:
                    idx[k] = _as_indices(li)
            idx[ref] = _as_indices(ri)
            frame = _Frame(rels, len(li), idx)
            keep = np.asarray(self._mask(residual, frame))
            li, ri = li[keep], ri[keep]
        return li, ri

    def _hash_pairs(
        self, ref: Any, lkeys: list[Any], rkeys: list[Any], left: _Frame, rframe: _Frame
    ) -> tuple[np.ndarray, np.ndarray]:
        """Equi-join pairs (SQL equality: a null key matches nothing)."""
        lcols = [_broadcast(self._val(k, left), left.n) for k in lkeys]
        rcols = [_broadcast(self._val(k, rframe), rframe.n) for k in rkeys]
        for i, (a, b) in enumerate(zip(lcols, rcols, strict=True)):
            lcols[i], rcols[i] = _coerce(a, b)
        constant = self._constant(ref.parent)
        cache_key = (ref, tuple(rkeys), tuple(c.type for c in rcols))
        index = self._index.get(cache_key) if constant else None
        if index is None:
            index = _KeyIndex(_join_keys(rcols))
            if constant:
                self._index[cache_key] = index
        return index.probe(_join_keys(lcols))

    def _prefix_pairs(
        self, ref: Any, p: Any, left: _Frame, rframe: _Frame
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs where a code of one side starts with a prefix of the other, through an index
        of the prefixes by length (kept when the prefixes are knowledge)."""
        code_on_left = not _reads(p.arg, ref)
        codes_frame, prefix_frame = (left, rframe) if code_on_left else (rframe, left)
        codes = _broadcast(self._val(p.arg, codes_frame), codes_frame.n).to_pylist()
        keep = code_on_left and self._constant(ref.parent)
        cached = self._prefix.get(p) if keep else None
        if cached is None:
            prefixes = _broadcast(self._val(p.start, prefix_frame), prefix_frame.n).to_pylist()
            by: dict[str, list[int]] = {}
            for j, x in enumerate(prefixes):
                if x is not None:
                    by.setdefault(x, []).append(j)
            cached = (sorted({len(x) for x in by}), by)
            if keep:
                self._prefix[p] = cached
        lengths, by = cached
        ci: list[int] = []
        pi: list[int] = []
        for i, c in enumerate(codes):
            if c is None:
                continue
            for m in lengths:
                if m > len(c):
                    break
                hits = by.get(c[:m])
                if hits:
                    ci.extend([i] * len(hits))
                    pi.extend(hits)
        a, b = np.asarray(ci, dtype=np.int64), np.asarray(pi, dtype=np.int64)
        return (a, b) if code_on_left else (b, a)

    # ------------------------------------------------------------------ values
    def _val(self, op: Any, frame: _Frame) -> Value:
        key = id(op)  # ints hash in C; operations hash through Python
        hit = frame.memo.get(key)
        if hit is None:
            kept = self._fixed.get(key)
            if kept is None or kept[0] is not op:
                kept = self._fixed[key] = (op, self._fixed_value(op))
            fixed = kept[1]
            hit = frame.memo[key] = fixed if fixed is not None else self._eval_val(op, frame)
        return hit

    def _fixed_value(self, op: Any) -> Value | None:
        """The value of ``op`` when it reads no field, no reduction and no window (a literal
        or an expression of literals, such as a parameter cast to a decimal), else None."""
        import ibis.expr.operations as ops
        from ibis.common.graph import Graph

        for node in Graph.from_bfs(op, filter=ops.Value):
            if isinstance(node, (ops.Field, ops.Reduction, ops.Analytic, ops.WindowFunction)):
                return None
        value = self._eval_val(op, _Frame({}, 1))
        return value if isinstance(value, pa.Scalar) else None

    def _eval_val(self, op: Any, frame: _Frame) -> Value:  # noqa: C901 - one dispatch
        import ibis.expr.operations as ops

        v = lambda o: self._val(o, frame)  # noqa: E731
        name = type(op).__name__
        if isinstance(op, ops.Field):
            return frame.column(op.rel, op.name)
        if isinstance(op, ops.Literal):
            return _literal(op)
        fn = _ELEMENTWISE.get(name)
        if fn is not None:
            return fn(op, v, frame)
        if isinstance(op, ops.WindowFunction):
            return self._window(op, frame)
        raise Unsupported(name)

    def _window(self, op: Any, frame: _Frame) -> pa.Array:
        import ibis.expr.operations as ops

        n = frame.n
        keys = [_broadcast(self._val(g, frame), n) for g in op.group_by]
        gid, _, ngroups = _group_ids(keys, n) if keys else (np.zeros(n, np.int64), None, 1)
        if op.order_by:
            order = np.asarray(self._order(op.order_by, frame))
            sortkeys = [_broadcast(self._val(k.arg, frame), n).to_pylist() for k in op.order_by]
        else:
            order, sortkeys = np.arange(n), []
        # Rows by partition, keeping the window order inside each (a stable sort by group).
        order = order[np.argsort(gid[order], kind="stable")]
        func = op.func
        if isinstance(func, (ops.RowNumber, ops.DenseRank, ops.MinRank, ops.Lag, ops.Lead)):
            out: list[Any] = [None] * n
            values = (
                _broadcast(self._val(func.arg, frame), n).to_pylist()
                if isinstance(func, (ops.Lag, ops.Lead))
                else None
            )
            offset = 1
            if isinstance(func, (ops.Lag, ops.Lead)) and func.offset is not None:
                offset = int(self._val(func.offset, _Frame({}, 1)).as_py())
            default = None
            if isinstance(func, (ops.Lag, ops.Lead)) and func.default is not None:
                default = self._val(func.default, frame)
                default = default.as_py() if isinstance(default, pa.Scalar) else None
            start = 0
            while start < n:
                g = gid[order[start]]
                end = start
                while end < n and gid[order[end]] == g:
                    end += 1
                rows = order[start:end]
                rank, prev = -1, object()
                for pos, r in enumerate(rows):
                    if isinstance(func, ops.RowNumber):
                        out[r] = pos
                    elif isinstance(func, (ops.DenseRank, ops.MinRank)):
                        key = tuple(s[r] for s in sortkeys)
                        if key != prev:
                            rank = rank + 1 if isinstance(func, ops.DenseRank) else pos
                            prev = key
                        out[r] = rank
                    else:
                        assert values is not None
                        j = pos - offset if isinstance(func, ops.Lag) else pos + offset
                        out[r] = values[rows[j]] if 0 <= j < len(rows) else default
                start = end
            return pa.array(out, type=op.dtype.to_pyarrow())
        if isinstance(func, ops.Reduction):
            per_group = self._reduce(func, frame, gid, ngroups)
            return per_group.take(pa.array(gid))
        raise Unsupported(f"window {type(func).__name__}")


# ---------------------------------------------------------------------------- helpers
_JOINS = frozenset({"inner", "left", "right", "outer", "semi", "anti", "cross"})


def _relations_below(op: Any) -> list[Any]:
    """The relations ``op`` reads directly (its parents, or its join's tables)."""
    import ibis.expr.operations as ops

    if isinstance(op, ops.JoinChain):
        return [op.first.parent, *(link.table.parent for link in op.rest)]
    if isinstance(op, (ops.Union, ops.Difference, ops.Intersection)):
        return [op.left, op.right]
    parent = getattr(op, "parent", None)
    return [parent] if parent is not None else []


def _reads(value: Any, rel: Any) -> bool:
    import ibis.expr.operations as ops
    from ibis.common.graph import Graph

    return any(
        isinstance(n, ops.Field) and n.rel == rel for n in Graph.from_bfs(value, filter=ops.Value)
    )


def _only(value: Any, rel: Any, other: bool) -> bool:
    """Whether every field of ``value`` is of ``rel`` (``other``: none is), and it has one."""
    import ibis.expr.operations as ops
    from ibis.common.graph import Graph

    fields = [n for n in Graph.from_bfs(value, filter=ops.Value) if isinstance(n, ops.Field)]
    if not fields:
        return False
    return all((f.rel != rel) if other else (f.rel == rel) for f in fields)


def _sides(p: Any, ref: Any) -> tuple[Any, Any] | None:
    """(left key, right key) of an equality between the joined side and the new table."""
    if _only(p.left, ref, other=True) and _only(p.right, ref, other=False):
        return p.left, p.right
    if _only(p.right, ref, other=True) and _only(p.left, ref, other=False):
        return p.right, p.left
    return None


def _prefix_sides(p: Any, ref: Any) -> bool:
    a_left, a_right = _only(p.arg, ref, other=True), _only(p.arg, ref, other=False)
    s_left, s_right = _only(p.start, ref, other=True), _only(p.start, ref, other=False)
    return (a_left and s_right) or (a_right and s_left)


def _join_keys(cols: list[pa.Array]) -> list[Any]:
    """Per row its join key: the value, or the tuple of values (None when any is null)."""
    if len(cols) == 1:
        return cols[0].to_pylist()
    return [None if None in k else k for k in zip(*(c.to_pylist() for c in cols), strict=True)]


class _KeyIndex:
    """The rows of a join's right side by key value (built once when it is knowledge)."""

    def __init__(self, keys: list[Any]) -> None:
        self.rows: dict[Any, list[int]] = {}
        for j, k in enumerate(keys):
            if k is not None:
                self.rows.setdefault(k, []).append(j)

    def probe(self, keys: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        li: list[int] = []
        ri: list[int] = []
        get = self.rows.get
        for i, k in enumerate(keys):
            hits = get(k) if k is not None else None
            if hits is not None:
                if len(hits) == 1:
                    li.append(i)
                    ri.append(hits[0])
                else:
                    li.extend([i] * len(hits))
                    ri.extend(hits)
        return np.asarray(li, dtype=np.int64), np.asarray(ri, dtype=np.int64)


def _link_plan(link: Any, ref: Any) -> tuple[list[Any], list[Any], list[Any], Any]:
    """A join link's predicates as hash keys (left, right), the rest, and one prefix test."""
    import ibis.expr.operations as ops

    lkeys, rkeys, residual, prefix = [], [], [], None
    for p in link.predicates:
        sides = _sides(p, ref) if isinstance(p, ops.Equals) else None
        if sides is not None:
            lkeys.append(sides[0])
            rkeys.append(sides[1])
        elif isinstance(p, ops.StartsWith) and prefix is None and _prefix_sides(p, ref):
            prefix = p
        else:
            residual.append(p)
    return lkeys, rkeys, residual, prefix


def _as_indices(ix: np.ndarray) -> pa.Array:
    """Row indices for ``take``; -1 (no row: the null side of an outer join) takes a null."""
    missing = ix < 0
    if missing.any():
        return pa.array(ix, mask=missing, type=pa.int64())
    return pa.array(ix, type=pa.int64())


def _identity(rows: np.ndarray, n: int) -> bool:
    """Whether ``rows`` takes every one of ``n`` rows once, in order (a take would copy)."""
    return len(rows) == n and bool((rows == np.arange(n)).all())


def _take_idx(current: pa.Array | None, rows: np.ndarray) -> pa.Array:
    if current is None:
        return _as_indices(rows)
    return current.take(_as_indices(rows))


def _distinct(t: pa.Table) -> pa.Table:
    if t.num_rows <= 1:
        return t
    seen: dict[tuple[Any, ...], int] = {}
    for i, row in enumerate(zip(*(c.to_pylist() for c in t.columns), strict=True)):
        seen.setdefault(row, i)
    if len(seen) == t.num_rows:
        return t
    return t.take(pa.array(sorted(seen.values()), pa.int64()))


def _group_ids(keys: list[pa.Array], n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Per row its group number (groups numbered by first appearance), each group's first
    row, and the number of groups (SQL grouping: nulls form one group)."""
    if not keys:
        return np.zeros(n, dtype=np.int64), np.zeros(min(n, 1), dtype=np.int64), min(n, 1)
    groups: dict[tuple[Any, ...], int] = {}
    gid = np.empty(n, dtype=np.int64)
    starts: list[int] = []
    for i, k in enumerate(zip(*(c.to_pylist() for c in keys), strict=True)):
        g = groups.get(k)
        if g is None:
            g = groups[k] = len(starts)
            starts.append(i)
        gid[i] = g
    return gid, np.asarray(starts, dtype=np.int64), len(starts)


def _grouped(arg: pa.Array, gid: np.ndarray, ngroups: int, how: str, fill: Any = None) -> pa.Array:
    if ngroups == 0:
        return pa.array([], type=_agg_type(arg.type, how))
    if ngroups == 1:
        # One group (one encounter's rows): a scalar aggregate costs a fraction of a grouping.
        if how == "count_distinct":
            one: pa.Scalar = pc.count_distinct(arg, mode="only_valid")
        elif how in ("sum", "mean"):
            one = getattr(pc, how)(arg, min_count=1)
        else:
            one = getattr(pc, how)(arg)
        if fill is not None and not one.is_valid:
            one = pa.scalar(fill, one.type)
        return pa.array([one.as_py()], one.type)
    if len(arg) <= SMALL_GROUPING:
        return _grouped_small(arg, gid, ngroups, how, fill)
    t = pa.table({"g": pa.array(gid), "v": arg})
    if how == "count_distinct":
        res = t.group_by("g", use_threads=False).aggregate(
            [("v", how, pc.CountOptions("only_valid"))]
        )
    elif how in ("sum", "mean"):
        res = t.group_by("g", use_threads=False).aggregate(
            [("v", how, pc.ScalarAggregateOptions(min_count=1))]
        )
    else:
        res = t.group_by("g", use_threads=False).aggregate([("v", how)])
    values = res.column(f"v_{how}").combine_chunks()
    # Groups whose values were all null (or filtered out) may be missing from the result.
    pos = np.full(ngroups, -1, dtype=np.int64)
    pos[np.asarray(res.column("g"))] = np.arange(res.num_rows)
    taken = values.take(_as_indices(pos))
    return taken if fill is None else pc.fill_null(taken, pa.scalar(fill, values.type))


SMALL_GROUPING = 4096  # rows up to which grouping in Python beats starting a grouping engine


def _grouped_small(arg: pa.Array, gid: np.ndarray, ngroups: int, how: str, fill: Any) -> pa.Array:
    """Per group: the SQL aggregate of the non-null values (null when none; ``fill`` then)."""
    acc: list[Any] = [None] * ngroups
    values = arg.to_pylist()
    groups = gid.tolist()
    if how == "count_distinct":
        seen: list[set[Any]] = [set() for _ in range(ngroups)]
        for g, x in zip(groups, values, strict=True):
            if x is not None:
                seen[g].add(x)
        return pa.array([len(x) for x in seen], pa.int64())
    if how == "mean":
        count = [0] * ngroups
        for g, x in zip(groups, values, strict=True):
            if x is not None:
                acc[g] = x if acc[g] is None else acc[g] + x
                count[g] += 1
        means = [None if c == 0 else a / c for a, c in zip(acc, count, strict=True)]
        return pa.array(means, pa.float64())
    for g, x in zip(groups, values, strict=True):
        if x is None:
            continue
        cur = acc[g]
        if cur is None:
            acc[g] = x
        elif how == "sum":
            acc[g] = cur + x
        elif (x > cur) if how == "max" else (x < cur):
            acc[g] = x
    out_type = arg.type
    if how == "sum" and pa.types.is_decimal(out_type):
        out_type = pa.decimal128(38, out_type.scale)
    elif how == "sum" and pa.types.is_integer(out_type):
        out_type = pa.int64()
    if fill is not None:
        acc = [fill if x is None else x for x in acc]
    return pa.array(acc, out_type)


def _agg_type(t: pa.DataType, how: str) -> pa.DataType:
    if how in ("count_distinct",):
        return pa.int64()
    if how == "mean":
        return pa.float64()
    return t


def _group_concat(
    arg: pa.Array, gid: np.ndarray, ngroups: int, order: np.ndarray, sep: str
) -> pa.Array:
    parts: list[list[str]] = [[] for _ in range(ngroups)]
    values = arg.to_pylist()
    for r in order:
        x = values[r]
        if x is not None:
            parts[gid[r]].append(str(x))
    return pa.array([sep.join(p) if p else None for p in parts], pa.string())


def _bool_true(mask: pa.Array) -> pa.Array:
    """SQL filter semantics: null is not true."""
    return pc.fill_null(mask, False) if mask.null_count else mask


# ---------------------------------------------------------------------------- value kinds
def _kind(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return "dec"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_null(t):
        return "null"
    return "other"


def _dec_of(t: pa.DataType) -> pa.DataType:
    """The decimal an integer is compared or combined as (the local store's rule)."""
    if pa.types.is_decimal(t):
        return t
    width = {8: 3, 16: 5, 32: 10, 64: 19}.get(t.bit_width, 19)
    return pa.decimal128(width, 0)


def _coerce(a: Value, b: Value) -> tuple[Value, Value]:
    """Both operands in a common type (numbers widened as the local store widens them)."""
    ta, tb = a.type, b.type
    if ta == tb:
        return a, b
    ka, kb = _kind(ta), _kind(tb)
    if ka == "null":
        return _cast_value(a, tb), b
    if kb == "null":
        return a, _cast_value(b, ta)
    if {ka, kb} <= {"int", "float", "dec"}:
        if "float" in (ka, kb):
            return _cast_value(a, pa.float64()), _cast_value(b, pa.float64())
        if "dec" in (ka, kb):
            da, db = _dec_of(ta), _dec_of(tb)
            scale = max(da.scale, db.scale)
            width = min(38, max(da.precision - da.scale, db.precision - db.scale) + scale)
            common = pa.decimal128(width, scale)
            return _cast_value(a, common), _cast_value(b, common)
        return _cast_value(a, pa.int64()), _cast_value(b, pa.int64())
    if ka == kb == "str":
        return _cast_value(a, pa.string()), _cast_value(b, pa.string())
    if pa.types.is_temporal(ta) and pa.types.is_temporal(tb):
        if pa.types.is_timestamp(ta) or pa.types.is_timestamp(tb):
            return _cast_value(a, pa.timestamp("us")), _cast_value(b, pa.timestamp("us"))
        return a, b
    if ka == "str":
        return _cast_value(a, tb), b
    if kb == "str":
        return a, _cast_value(b, ta)
    return a, b


def _cast_value(v: Value, t: pa.DataType) -> Value:
    if v.type == t:
        return v
    if isinstance(v, pa.Scalar):
        # Literals are the same objects on every run (computed once): so are their casts.
        key = (id(v), t)
        kept = _SCALAR_CASTS.get(key)
        if kept is None or kept[0] is not v:
            if len(_SCALAR_CASTS) > 10_000:
                _SCALAR_CASTS.clear()
            kept = _SCALAR_CASTS[key] = (v, _cast_arrow(pa.array([v.as_py()], v.type), t)[0])
        return kept[1]
    return _cast_arrow(v, t)


_SCALAR_CASTS: dict[tuple[int, pa.DataType], tuple[pa.Scalar, pa.Scalar]] = {}


def _cast_arrow(arr: pa.Array, t: pa.DataType) -> pa.Array:  # noqa: C901 - one table of casts
    """``CAST(arr AS t)`` as the local store casts."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    src = arr.type
    if src == t:
        return arr
    if pa.types.is_null(src):
        return pa.nulls(len(arr), t)
    ks, kt = _kind(src), _kind(t)
    if kt == "str":
        return _to_text(arr)
    if kt == "dec":
        if ks == "dec":
            if t.scale < src.scale:
                arr = pc.round(arr, ndigits=t.scale, round_mode="half_towards_infinity")
            return arr.cast(t)
        if ks == "float":
            return pa.array(
                [
                    None if x is None else _dec_round(Decimal(repr(x)), t.scale)
                    for x in arr.to_pylist()
                ],
                t,
            )
        if ks == "str":
            return pa.array(
                [
                    None if x is None else _dec_round(Decimal(x.strip()), t.scale)
                    for x in arr.to_pylist()
                ],
                t,
            )
        return arr.cast(_dec_of(src)).cast(t)
    if kt == "int":
        if ks == "dec":
            arr = pc.round(arr, ndigits=0, round_mode="half_towards_infinity")
            return arr.cast(t)
        if ks == "float":
            return pc.round(arr, ndigits=0, round_mode="half_to_even").cast(t)
        if ks == "str":
            return pc.utf8_trim_whitespace(arr).cast(t)
        return arr.cast(t)
    if pa.types.is_date(t) and pa.types.is_timestamp(src):
        return pc.cast(pc.floor_temporal(arr, unit="day"), t, safe=False)
    if pa.types.is_timestamp(t) and pa.types.is_timestamp(src):
        return pc.cast(arr, t, safe=False)
    return arr.cast(t)


def _dec_round(x: Decimal, scale: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def _to_text(arr: pa.Array) -> pa.Array:
    """Values as the local store writes them as text."""
    t = arr.type
    k = _kind(t)
    if k in ("str", "int", "dec"):
        return arr.cast(pa.string())
    if k == "bool":
        return pc.if_else(arr, "true", "false")
    if k == "float":
        return pa.array([None if x is None else _float_text(x) for x in arr.to_pylist()])
    if pa.types.is_date(t):
        return arr.cast(pa.string())
    if pa.types.is_timestamp(t):
        return pa.array([None if x is None else _ts_text(x) for x in arr.to_pylist()])
    return arr.cast(pa.string())


def _float_text(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def _ts_text(x: datetime) -> str:
    s = x.strftime("%Y-%m-%d %H:%M:%S")
    if x.microsecond:
        s += f".{x.microsecond:06d}".rstrip("0")
    return s


def _literal(op: Any) -> pa.Scalar:
    t = op.dtype.to_pyarrow()
    value = op.value
    if value is None:
        return pa.scalar(None, t)
    if op.dtype.is_decimal() and not isinstance(value, Decimal):
        value = Decimal(str(value))
    if op.dtype.is_timestamp() and isinstance(value, str):
        value = datetime.fromisoformat(value)
    if op.dtype.is_date() and isinstance(value, str):
        value = date.fromisoformat(value)
    return pa.scalar(value, t)


# ---------------------------------------------------------------------------- element-wise
def _arith(name: str, a: Value, b: Value) -> Value:
    ka, kb = _kind(a.type), _kind(b.type)
    if "float" in (ka, kb) or name == "Divide":
        a, b = _cast_value(a, pa.float64()), _cast_value(b, pa.float64())
        if name == "Divide":
            b = pc.if_else(pc.equal(b, 0.0), pa.scalar(None, pa.float64()), b)
    elif "dec" in (ka, kb):
        a, b = _cast_value(a, _dec_of(a.type)), _cast_value(b, _dec_of(b.type))
        return _dec_arith(name, a, b)
    else:
        a, b = _cast_value(a, pa.int64()), _cast_value(b, pa.int64())
    if name == "Modulus":
        return _python2(lambda x, y: None if y == 0 else math.fmod(x, y), a, b, a.type)
    fn = {"Add": pc.add, "Subtract": pc.subtract, "Multiply": pc.multiply, "Divide": pc.divide}
    return fn[name](a, b)


def _dec_arith(name: str, a: Value, b: Value) -> Value:
    """Decimal ``+ − × %`` at the local store's result scale, exact (Python decimals where
    Arrow's result precision would exceed 38 digits)."""
    sa, sb = a.type.scale, b.type.scale
    scale = sa + sb if name == "Multiply" else max(sa, sb)
    out = pa.decimal128(38, scale)
    if name == "Modulus":
        return _python2(lambda x, y: None if y == 0 else x % y, a, b, out)
    fn = {"Add": pc.add, "Subtract": pc.subtract, "Multiply": pc.multiply}[name]
    try:
        # Arrow widens the result's precision (and refuses more than 38 digits) where the local
        # store caps it: operands narrowed first (a checked cast: a value that does not fit
        # raises and goes to the exact fallback) keep the result within 38 digits.
        if name == "Multiply":
            a, b = _narrow(a, 18 + sa), _narrow(b, 19 + sb)
        else:
            whole = 37 - scale
            a, b = _narrow(a, whole + sa), _narrow(b, whole + sb)
        return _cast_value(fn(a, b), out)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        import operator

        py = {"Add": operator.add, "Subtract": operator.sub, "Multiply": operator.mul}[name]
        return _python2(py, a, b, out)


def _narrow(v: Value, precision: int) -> Value:
    t = v.type
    if t.precision <= precision:
        return v
    return v.cast(pa.decimal128(max(precision, t.scale + 1), t.scale))


def _python2(fn: Callable[[Any, Any], Any], a: Value, b: Value, out: pa.DataType) -> Value:
    if isinstance(a, pa.Scalar) and isinstance(b, pa.Scalar):
        x, y = a.as_py(), b.as_py()
        return pa.scalar(None if x is None or y is None else fn(x, y), out)
    n = len(a) if not isinstance(a, pa.Scalar) else len(b)
    xs = [a.as_py()] * n if isinstance(a, pa.Scalar) else a.to_pylist()
    ys = [b.as_py()] * n if isinstance(b, pa.Scalar) else b.to_pylist()
    return pa.array(
        [None if x is None or y is None else fn(x, y) for x, y in zip(xs, ys, strict=True)], out
    )


def _python1(fn: Callable[[Any], Any], a: Value, out: pa.DataType) -> Value:
    if isinstance(a, pa.Scalar):
        return pa.scalar(None if not a.is_valid else fn(a.as_py()), out)
    return pa.array([None if x is None else fn(x) for x in a.to_pylist()], out)


def _compare(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any, _Frame], Value]:
    def run(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
        a, b = _coerce(v(op.left), v(op.right))
        try:
            return fn(a, b)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            import operator

            py = {
                pc.equal: operator.eq,
                pc.not_equal: operator.ne,
                pc.less: operator.lt,
                pc.less_equal: operator.le,
                pc.greater: operator.gt,
                pc.greater_equal: operator.ge,
            }[fn]
            return _python2(py, a, b, pa.bool_())

    return run


def _arith_op(name: str) -> Callable[[Any, Any, _Frame], Value]:
    return lambda op, v, frame: _arith(name, v(op.left), v(op.right))


def _typed(op: Any, value: Value) -> Value:
    return _cast_value(value, op.dtype.to_pyarrow())


def _concat(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    parts = [_cast_value(v(a), pa.string()) for a in op.arg]
    if all(isinstance(p, pa.Scalar) for p in parts):
        vals = [p.as_py() for p in parts]
        return pa.scalar(None if None in vals else "".join(vals), pa.string())
    return pc.binary_join_element_wise(*parts, "", null_handling="emit_null")


def _substring(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    """Ibis ``substr(start, length)``: ``start`` 0-based (negative counts from the end), as the
    local store's ``SUBSTRING`` is called for it; a null operand gives null."""
    n = frame.n
    columns = [v(op.arg), v(op.start), v(op.length) if op.length is not None else None]
    texts, starts, lengths = (
        [None] * n if c is None else [c.as_py()] * n if isinstance(c, pa.Scalar) else c.to_pylist()
        for c in columns
    )
    has_length = op.length is not None
    out: list[str | None] = []
    for x, st, ln in zip(texts, starts, lengths, strict=True):
        if x is None or st is None or (has_length and ln is None):
            out.append(None)
            continue
        lo = st if st >= 0 else st + len(x)  # 0-based first character
        if not has_length:
            out.append(x[max(lo, 0) :])
        elif ln < 0:
            out.append(x[max(lo + ln, 0) : max(lo, 0)])
        else:
            out.append(x[max(lo, 0) : max(lo + ln, 0)])
    return pa.array(out, pa.string())


def _string_test(kind: str) -> Callable[[Any, Any, _Frame], Value]:
    def run(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
        hay = v(op.haystack if kind == "contains" else op.arg)
        needle = v(getattr(op, {"starts": "start", "ends": "end", "contains": "needle"}[kind]))
        py = {
            "starts": lambda x, y: x.startswith(y),
            "ends": lambda x, y: x.endswith(y),
            "contains": lambda x, y: y in x,
        }[kind]
        if isinstance(needle, pa.Scalar) and not isinstance(hay, pa.Scalar):
            if not needle.is_valid:
                return pa.nulls(len(hay), pa.bool_())
            kernel = {
                "starts": pc.starts_with,
                "ends": pc.ends_with,
                "contains": pc.match_substring,
            }[kind]
            return kernel(hay, pattern=needle.as_py())
        return _python2(py, hay, needle, pa.bool_())

    return run


def _in_values(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    value = v(op.value)
    options = [v(o) for o in op.options]
    if all(isinstance(o, pa.Scalar) for o in options):
        wanted = [o.as_py() for o in options if o.is_valid]
        vt = value.type
        try:
            value_set = pa.array(wanted, vt) if wanted else pa.array([], vt)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            value_set = pa.array(wanted)
            value, value_set = _coerce(value, value_set)
        if isinstance(value, pa.Scalar):
            x = value.as_py()
            return pa.scalar(None if x is None else x in set(value_set.to_pylist()), pa.bool_())
        got = pc.is_in(value, value_set=value_set)
        return pc.if_else(pc.is_null(value), pa.scalar(None, pa.bool_()), got)
    out = None
    for o in options:
        a, b = _coerce(value, o)
        eq = pc.equal(a, b)
        out = eq if out is None else pc.or_kleene(out, eq)
    return out if out is not None else pa.scalar(False)


def _case(op: Any, v: Callable[[Any], Value], frame: _Frame, base: Any = None) -> Value:
    n = frame.n
    out_type = op.dtype.to_pyarrow()
    result = _broadcast(
        _cast_value(v(op.default), out_type)
        if op.default is not None
        else pa.scalar(None, out_type),
        n,
        out_type,
    )
    for cond, res in reversed(list(zip(op.cases, op.results, strict=True))):
        if base is not None:
            a, b = _coerce(v(base), v(cond))
            test = pc.equal(a, b)
        else:
            test = v(cond)
        test = _bool_true(_broadcast(test, n, pa.bool_()))
        result = pc.if_else(test, _broadcast(_cast_value(v(res), out_type), n, out_type), result)
    return result


def _if_else(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    out_type = op.dtype.to_pyarrow()
    test = _bool_true(_broadcast(v(op.bool_expr), frame.n, pa.bool_()))
    yes = _broadcast(_cast_value(v(op.true_expr), out_type), frame.n, out_type)
    no = _broadcast(_cast_value(v(op.false_null_expr), out_type), frame.n, out_type)
    return pc.if_else(test, yes, no)


def _extreme(fn: Callable[..., Value]) -> Callable[[Any, Any, _Frame], Value]:
    def run(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
        args = [v(a) for a in op.arg]
        common = args[0]
        for a in args[1:]:
            common, _ = _coerce(common, a)
        t = common.type
        args = [_broadcast(_cast_value(_coerce(common, a)[1], t), frame.n, t) for a in args]
        return fn(*args, skip_nulls=True)

    return run


def _coalesce(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    out_type = op.dtype.to_pyarrow()
    args = [_broadcast(_cast_value(v(a), out_type), frame.n, out_type) for a in op.arg]
    return pc.coalesce(*args)


def _null_if(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    a = v(op.arg)
    x, y = _coerce(a, v(op.null_if_expr))
    same = _bool_true(_broadcast(pc.equal(x, y), frame.n, pa.bool_()))
    a = _broadcast(a, frame.n)
    return pc.if_else(same, pa.scalar(None, a.type), a)


def _round(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    a = v(op.arg)
    digits = 0 if op.digits is None else int(v(op.digits).as_py())
    if _kind(a.type) == "int":
        return _typed(op, a)
    mode = "half_towards_infinity"
    rounded = pc.round(_broadcast(a, frame.n), ndigits=digits, round_mode=mode)
    return _cast_value(rounded, op.dtype.to_pyarrow())


def _date(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    return _cast_value(v(op.arg), pa.date32())


def _epoch_seconds(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    ts = _cast_value(v(op.arg), pa.timestamp("us"))
    micros = _broadcast(ts, frame.n).cast(pa.int64())
    return pc.divide(micros, 1_000_000).cast(pa.int64())


def _date_delta(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    if op.part.value not in ("day", "D") if hasattr(op.part, "value") else op.part != "day":
        raise Unsupported(f"date delta in {op.part}")
    left = _broadcast(_cast_value(v(op.left), pa.date32()), frame.n).cast(pa.int32())
    right = _broadcast(_cast_value(v(op.right), pa.date32()), frame.n).cast(pa.int32())
    return pc.subtract(left.cast(pa.int64()), right.cast(pa.int64()))


def _date_from_ymd(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    parts = [_broadcast(v(a), frame.n).to_pylist() for a in (op.year, op.month, op.day)]
    return pa.array(
        [
            None if None in (y, m, d) else date(int(y), int(m), int(d))
            for y, m, d in zip(*parts, strict=True)
        ],
        pa.date32(),
    )


def _unary(fn: Callable[[Value], Value]) -> Callable[[Any, Any, _Frame], Value]:
    return lambda op, v, frame: fn(v(op.arg))


def _logic(fn: Callable[[Value, Value], Value]) -> Callable[[Any, Any, _Frame], Value]:
    return lambda op, v, frame: fn(
        _cast_value(v(op.left), pa.bool_()), _cast_value(v(op.right), pa.bool_())
    )


def _cast(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    return _cast_value(v(op.arg), op.to.to_pyarrow())


def _negate(a: Value) -> Value:
    if _kind(a.type) == "dec":
        return _python1(lambda x: -x, a, a.type)
    return pc.negate(a)


def _abs(a: Value) -> Value:
    if _kind(a.type) == "dec":
        return _python1(abs, a, a.type)
    return pc.abs(a)


def _length(a: Value) -> Value:
    out = pc.utf8_length(a)
    return _cast_value(out, pa.int64())


_ELEMENTWISE: dict[str, Callable[[Any, Callable[[Any], Value], _Frame], Value]] = {
    "Cast": _cast,
    "Add": _arith_op("Add"),
    "Subtract": _arith_op("Subtract"),
    "Multiply": _arith_op("Multiply"),
    "Divide": _arith_op("Divide"),
    "Modulus": _arith_op("Modulus"),
    "Negate": _unary(_negate),
    "Abs": _unary(_abs),
    "Equals": _compare(pc.equal),
    "NotEquals": _compare(pc.not_equal),
    "Less": _compare(pc.less),
    "LessEqual": _compare(pc.less_equal),
    "Greater": _compare(pc.greater),
    "GreaterEqual": _compare(pc.greater_equal),
    "And": _logic(pc.and_kleene),
    "Or": _logic(pc.or_kleene),
    "Not": _unary(pc.invert),
    "IsNull": _unary(pc.is_null),
    "NotNull": _unary(pc.is_valid),
    "Coalesce": _coalesce,
    "NullIf": _null_if,
    "IfElse": _if_else,
    "SearchedCase": _case,
    "SimpleCase": lambda op, v, frame: _case(op, v, frame, base=op.base),
    "InValues": _in_values,
    "Greatest": _extreme(pc.max_element_wise),
    "Least": _extreme(pc.min_element_wise),
    "StringConcat": _concat,
    "StringLength": _unary(_length),
    "Substring": _substring,
    "StartsWith": _string_test("starts"),
    "EndsWith": _string_test("ends"),
    "StringContains": _string_test("contains"),
    "Round": _round,
    "Date": _date,
    "ExtractEpochSeconds": _epoch_seconds,
    "DateDelta": _date_delta,
    "DateFromYMD": _date_from_ymd,
}

_SUPPORTED = frozenset(
    {
        *_ELEMENTWISE,
        "Field",
        "Literal",
        "SortKey",
        "WindowFunction",
        "RowNumber",
        "DenseRank",
        "MinRank",
        "Lag",
        "Lead",
        "Sum",
        "Count",
        "CountStar",
        "CountDistinct",
        "Max",
        "Min",
        "Mean",
        "GroupConcat",
        "DatabaseTable",
        "InMemoryTable",
        "JoinReference",
        "SelfReference",
        "JoinChain",
        "JoinLink",
        "Project",
        "Filter",
        "DropColumns",
        "Distinct",
        "Sort",
        "Limit",
        "Union",
        "Aggregate",
        # Values Ibis keeps in the graph for metadata only
        "FrozenOrderedDict",
    }
)
