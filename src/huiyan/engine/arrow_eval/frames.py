"""Relations with lazy columns, the frames values are evaluated over, and row indices."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from huiyan.engine.arrow_eval.base import Unsupported, Value
from huiyan.engine.arrow_eval.casts import _cast_arrow


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


def _bool_true(mask: pa.Array) -> pa.Array:
    """SQL filter semantics: null is not true."""
    return pc.fill_null(mask, False) if mask.null_count else mask


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
