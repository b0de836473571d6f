"""The small engine: an in-memory engine for a few rows at a time, with named compiled statements.

The real-time audit runs the rule library on a handful of encounters per request. It needs the
canonical tables empty in memory, statements compiled once and run by name, and the rows of a
table replaced cheaply; :class:`SmallEngine` gives exactly that, so code outside
``huiyan.engine`` names no backend. ``rows_where`` reads the rows of a stored table matching
keys (the persons' earlier stays).

Running a kept (prepared) statement costs about as much as running its SQL afresh: the
profiler reports binder and optimizer time on every run (~75 ms and ~55 ms for a 65 KB
statement, executing it on a few rows 0.4 ms), in proportion to the statement's size; so
callers keep statements small and run only those that can give rows. Yet a kept statement
reading registered Arrow rows keeps the rows it was first planned with (measured), so batches
are fed into tables (``feed``), never registered under the name a statement reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from huiyan.engine.store import Store
from huiyan.model import table

if TYPE_CHECKING:
    import ibis.expr.types as ir

_submit: Any
try:  # the Python package's own one-statement entry point; the public path is the fallback
    from duckdb._seam import submit as _submit
except ImportError:  # pragma: no cover - another package version
    _submit = None


class SmallEngine:
    """In-memory canonical tables and named statements, for a few rows per run.

    Single-threaded inside (``threads=1``): a batch is too small to split, and extra engine
    threads only added synchronisation (server CPU per request 19.4 -> 10.8 ms measured).
    Not thread-safe: callers serialize use, or open one engine per thread.
    """

    def __init__(self) -> None:
        self._store = Store(":memory:")
        self._store.con.execute("SET threads=1")

    def close(self) -> None:
        self._store.close()

    # ------------------------------------------------------------------ tables
    @property
    def ibis(self) -> Any:
        """The Ibis backend of the engine (to build and compile expressions)."""
        return self._store.ibis

    def ensure(self, name: str) -> None:
        self._store.ensure(name)

    def read(self, name: str) -> pa.Table:
        return self._store.read(name)

    def write(self, name: str, rows: pa.Table) -> None:
        """Append rows to a canonical table (conformed to its schema)."""
        self._store.write(name, rows)

    def create(self, name: str, expr: ir.Table | None = None, schema: Any = None) -> ir.Table:
        """A table of the engine: the rows of ``expr`` now, or empty with ``schema``."""
        backend = self._store.ibis
        if expr is not None:
            backend.create_table(name, obj=expr)
        else:
            backend.create_table(name, schema=schema)
        return backend.table(name)

    def feed(self, name: str, parts: Sequence[pa.Table]) -> None:
        """The rows of canonical table ``name`` are now those of ``parts`` (conformed).

        The rows go into the stored table by a statement planned now: a kept statement reading
        registered Arrow rows keeps the rows it was first planned with (measured), while one
        reading a table reads what the table holds when it runs.
        """
        spec = table(name)
        schema = spec.arrow_schema()
        rows = []
        for part in parts:
            if not part.schema.equals(schema, check_metadata=False):
                unknown = set(part.column_names) - set(spec.columns)
                if unknown:
                    raise ValueError(f"table {name}: unknown columns {sorted(unknown)}")
                part = spec.conform(part)
            if part.num_rows:
                rows.append(part)
        con = self._store.con
        con.execute(f'DELETE FROM "{name}"')
        if rows:
            con.register("_small_feed", pa.concat_tables(rows))
            try:
                con.execute(f'INSERT INTO "{name}" SELECT * FROM "_small_feed"')
            finally:
                con.unregister("_small_feed")

    def count(self, name: str) -> int:
        return int(self._store.con.sql(f'select count(*) from "{name}"').fetchall()[0][0])

    def distinct(self, name: str, column: str) -> list[Any]:
        """The distinct values of a column of a table of the engine."""
        rows = self._store.con.sql(f'select distinct "{column}" from "{name}"').fetchall()
        return [r[0] for r in rows]

    def clear(self, name: str) -> None:
        self._store.con.execute(f'DELETE FROM "{name}"')

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._store.transaction():
            yield

    # ------------------------------------------------------------------ statements
    def compile(self, expr: ir.Table) -> str:
        return str(self._store.ibis.compile(expr))

    def prepare(self, name: str, sql: str) -> None:
        """Keep ``sql`` (a query or an ``INSERT``) under ``name``."""
        self._store.con.execute(f"PREPARE {name} AS {sql}")

    def run(self, name: str) -> None:
        """Run a kept statement for its effect (an ``INSERT``)."""
        self._store.con.execute(f"EXECUTE {name}")

    def query(self, name: str) -> pa.Table:
        """The rows of a kept query."""
        if _submit is not None:
            # Straight to Arrow: a relation over EXECUTE holds the rows and reads them back
            # through a second statement (measured 1.5-2 ms of 5-9 ms per rule statement).
            return _submit(self._store.con, f"EXECUTE {name}", None, format="arrow").arrow_table()
        return self._store.con.sql(f"EXECUTE {name}").to_arrow_table()


def rows_where(
    store: Store,
    name: str,
    column: str,
    values: Sequence[Any],
    *,
    unless: tuple[str, Sequence[Any]] | None = None,
) -> pa.Table:
    """Rows of stored table ``name`` whose ``column`` is one of ``values`` (and, with
    ``unless`` = (column, values), whose that column is none of those)."""
    sql = f'select * from "{name}" where "{column}" in (select unnest(?))'
    params: list[Any] = [list(values)]
    if unless is not None:
        sql += f' and "{unless[0]}" not in (select unnest(?))'
        params.append(list(unless[1]))
    return store.con.sql(sql, params=params).to_arrow_table()
