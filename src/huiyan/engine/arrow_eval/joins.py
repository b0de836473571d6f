"""How a join link's predicates are used: hash keys, a prefix test, the rest as a filter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa


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
