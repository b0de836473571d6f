"""The engine protocol: the one interface every pipeline step reads and writes tables through.

A step never opens a file, a connection or a session. It receives an :class:`Engine` and

- reads stored tables as Ibis expressions (``engine.table("setl_list")``) and builds its logic
  on them; the same expression runs on DuckDB and on Spark;
- brings a *small* result into the process with ``engine.to_arrow(expr)`` (or ``read(name)``
  for a whole small table); a big one stays on the engine;
- keeps a derived expression that several rules reuse with ``engine.materialize(expr)``
  (computed once on the engine, released by ``engine.release``);
- hands a small in-process table (catalog, knowledge, code table) to the engine with
  ``engine.register(name, arrow)`` so expressions can join it;
- writes its result with ``engine.write(name, data, mode="replace")`` or, when it owns only
  a slice of a result table (one scheme, one batch), ``engine.replace_where(name, column,
  values, data)``: both atomic, a reader never sees the table half-written;
- groups several writes that must commit together in ``with engine.transaction():``.

Example (a step)::

    def run(ctx: RunContext) -> StepReport:
        eng = ctx.engine
        cases = eng.table("setl_list").filter(lambda t: t.med_type == "21")
        stats = cases.group_by("medins_code").aggregate(n=lambda t: t.count())
        n = eng.write("my_result", stats, mode="replace")
        return StepReport(step="mine", rows={"my_result": n})

Tables written are the canonical tables of :mod:`huiyan.model`: ``write`` conforms the data
to the model schema, so a step cannot invent or misspell a column.

Capabilities differ between engines; they are declared the way Ibis declares backend
capabilities, as class-level flags (:class:`Capabilities`) a step may test instead of asking
which engine it has. Nothing outside ``huiyan.engine`` names a backend: code that needs a
capability tests the flag (``if engine.capabilities.temp_tables: ...``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import pyarrow as pa

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from huiyan.engine.store import Store

WriteMode = Literal["append", "replace"]
BatchFn = Callable[[pa.RecordBatch], pa.Table]


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do beyond the protocol's common ground.

    transactions: ``transaction()`` makes writes to *several* tables commit together or not at
        all (DuckDB). Without it each ``write``/``replace_where`` is still atomic on its own
        table, and a transaction only groups them for readability (Spark: each table is
        replaced by writing a new version and swapping it in).
    temp_tables: ``register`` creates a session-temporary table; without it the data is
        registered as an in-memory view re-sent with each query.
    in_process: the data lives in this process, so ``to_arrow`` of a large table is cheap and
        per-row Python (the single-case grouper trace) is acceptable.
    distributed: work is split over partitions/executors (``map_batches`` runs in parallel).
    memory_limit: ``memory_limit(...)`` caps the working memory of a heavy step.
    local_store: the engine is a local store (``local_store()`` returns it): ingest stages,
        checks and upserts files on it, and ``link`` makes another engine's result files
        readable in it. Without it ingest runs into a local store beside the engine, whose
        tables the engine receives with ``publish`` (``huiyan run --engine``).
    """

    transactions: bool = False
    temp_tables: bool = False
    in_process: bool = False
    distributed: bool = False
    memory_limit: bool = False
    local_store: bool = False


class Engine(ABC):
    """Where huiyan's tables live and its Ibis expressions run (one of ``KINDS``)."""

    #: Short name shown in logs and reports (one of ``KINDS``); never branched on.
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    #: Tables written through this engine since it was opened (a run's results).
    written: set[str]

    # ------------------------------------------------------------------ lifecycle
    @abstractmethod
    def close(self) -> None:
        """Release the connection/session (results already written stay)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    @abstractmethod
    def ibis(self) -> BaseBackend:
        """The Ibis backend expressions of this engine are bound to (for ``ibis`` helpers
        that take a backend, e.g. ``create_table``; steps normally need only ``table``)."""

    # ------------------------------------------------------------------ reading
    @abstractmethod
    def has(self, name: str) -> bool:
        """Whether table ``name`` is stored."""

    @abstractmethod
    def tables(self) -> list[str]:
        """Names of the stored tables, sorted."""

    @abstractmethod
    def table(self, name: str) -> ir.Table:
        """The stored table as an Ibis expression; an empty canonical table if not stored yet."""

    def count(self, name: str) -> int:
        """Rows in the stored table ``name`` (0 when it is not stored)."""
        if not self.has(name):
            return 0
        return int(self.table(name).count().to_pyarrow().as_py())

    def read(self, name: str) -> pa.Table:
        """The whole stored table as Arrow (small tables and tests only)."""
        return self.to_arrow(self.table(name))

    def base_tables(self) -> list[str]:
        """The canonical tables stored as this engine's own, sorted: not those ``link`` made
        readable from another engine's files."""
        from huiyan.model import TABLES

        return [n for n in self.tables() if n in TABLES]

    def files(self, name: str) -> Path | None:
        """The folder of Parquet files holding table ``name`` when the engine keeps its tables
        as files another engine can read (``link``); None otherwise or when not stored."""
        return None

    def read_optional(self, name: str) -> pa.Table | None:
        """``read(name)``, or None when the table is not stored."""
        return self.read(name) if self.has(name) else None

    @abstractmethod
    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` and bring its result into the process as Arrow."""

    def to_batches(self, expr: ir.Table, *, batch_size: int = 100_000) -> Iterator[pa.RecordBatch]:
        """Run ``expr`` and stream its result as Arrow record batches (bounded memory)."""
        yield from self.to_arrow(expr).to_batches(max_chunksize=batch_size)

    def map_batches(
        self, expr: ir.Table, fn: BatchFn, schema: pa.Schema, *, batch_size: int = 100_000
    ) -> pa.Table | ir.Table:
        """``fn`` (a pure Python function of an Arrow batch, e.g. the DRG grouper, returning a
        table with exactly the fields of ``schema``) applied to every batch of ``expr``; the
        result is what ``write`` accepts.

        In-process engines run the batches here one after another; a distributed engine runs
        them on its partitions (Spark: ``mapInArrow``) and keeps the result there.
        """
        parts = [fn(b).cast(schema) for b in self.to_batches(expr, batch_size=batch_size)]
        return pa.concat_tables(parts) if parts else schema.empty_table()

    # ------------------------------------------------------------------ derived tables
    @abstractmethod
    def materialize(self, expr: ir.Table) -> ir.Table:
        """``expr`` computed once on the engine and returned as a table to build on.

        The result lives until ``release(result)`` or ``close()``.
        """

    @abstractmethod
    def release(self, table: ir.Table) -> None:
        """Drop a table made by ``materialize`` or ``register``."""

    @abstractmethod
    def register(self, name: str, data: pa.Table) -> ir.Table:
        """A small Arrow table (catalog, knowledge, codes) made visible to expressions as
        ``name`` for this session; not a stored table."""

    # ------------------------------------------------------------------ writing
    @abstractmethod
    def write(self, name: str, data: pa.Table | ir.Table, *, mode: WriteMode = "append") -> int:
        """Write rows to the canonical table ``name``; ``replace`` swaps the whole content.

        Atomic on its own: a failure leaves the table as it was. An expression ``data`` may
        read ``name`` itself (it is computed before the table is replaced). Returns rows written.
        """

    @abstractmethod
    def delete_where(self, name: str, match: Mapping[str, Sequence[Any] | pa.Array]) -> int:
        """Delete the rows where every ``column`` of ``match`` is in its values
        (``{"period": ["2024-03"], "kind": ["monthly"]}``); returns rows deleted (0 when the
        table is not stored)."""

    def replace_where(
        self, name: str, match: Mapping[str, Sequence[Any] | pa.Array], data: pa.Table | ir.Table
    ) -> int:
        """Replace the slice ``match`` (as in ``delete_where``) of ``name`` by ``data`` in one
        atomic step (a step that owns one scheme's, one batch's or one period's rows); returns
        rows written."""
        with self.transaction():
            self.delete_where(name, match)
            return self.write(name, data)

    @abstractmethod
    def drop(self, name: str) -> None:
        """Drop the stored table ``name`` (nothing when it is not stored)."""

    def drop_stale(self, *names: str, types: bool = True) -> list[str]:
        """Drop those stored tables whose columns (and, with ``types``, column types) differ
        from the model (stores written by an older huiyan), so the next write recreates them;
        returns the names dropped. This default compares column names only."""
        from huiyan.model import table as model_table

        dropped = []
        for name in names:
            if self.has(name) and list(self.table(name).columns) != model_table(name).columns:
                self.drop(name)
                dropped.append(name)
        return dropped

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together (see ``Capabilities.transactions``). Nested uses join
        the outermost one."""

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """Whether a ``transaction()`` is open."""

    # ------------------------------------------------------------------ ingest
    def local_store(self) -> Store:
        """The embedded store that ingest reads files into (ingest stages, validates and
        upserts by key on it). An engine with ``capabilities.local_store`` is its own; another
        one keeps a local store beside its tables and receives the loaded tables with
        ``publish`` (so this raises there: ingest is local by nature)."""
        raise NotImplementedError(
            f"{self.name}: 导入只在本地库进行 ingest runs on a local store only "
            "(capabilities.local_store is False: ingest into a local store, then publish)"
        )

    def link(self, source: Engine, names: Sequence[str]) -> list[str]:
        """Make the tables ``names`` that ``source`` keeps as files (``source.files``) readable
        here as views of those files, replacing tables of the same name (a run on another
        engine, read back by ``huiyan export`` and the reports); returns the names linked.
        Needs ``capabilities.local_store``."""
        raise NotImplementedError(f"{self.name}: cannot link another engine's tables")

    def publish(self, source: Engine, names: Sequence[str]) -> dict[str, int]:
        """Replace the tables ``names`` with their content on ``source`` (after an ingest into
        ``local_store()``); nothing to do when ``source`` is this engine. Returns rows per table."""
        if source is self:
            return {}
        return {
            n: self.write(n, source.to_arrow(source.table(n)), mode="replace")
            for n in names
            if source.has(n)
        }

    @contextmanager
    def memory_limit(self, limit: str) -> Iterator[None]:
        """Cap the working memory of the step inside (engines without the capability ignore it:
        Spark's memory is set per executor when the session starts)."""
        yield

    def describe(self) -> str:
        """One line for logs and the run summary."""
        return self.name


_MODULES = {"duckdb": "huiyan.engine.store", "spark": "huiyan.engine.spark"}
#: The engine kinds ``connect`` opens (``huiyan run --engine``); the first is the default,
#: the local store.
KINDS: tuple[str, ...] = tuple(_MODULES)
DEFAULT_KIND = KINDS[0]
#: The store file a command opens when no ``--db`` is given, in the working directory.
DEFAULT_STORE = "huiyan.duckdb"
#: Optional dependencies of the engines by top-level module -> the pyproject extra to install.
EXTRAS = {"pyspark": "spark"}
#: The command-line names of the distributed engine's cluster address: the one docs/design.md
#: promises (``--spark-master``) and a short one.
MASTER_OPTIONS = ("--spark-master", "--master")


def describe_error(exc: BaseException) -> str | None:
    """The user's line for an error an engine's library raised (a locked store, a full disk),
    or None: each engine module whose library is loaded may describe its own errors."""
    import sys
    from importlib import import_module

    for module in _MODULES.values():
        if module not in sys.modules and module != _MODULES["duckdb"]:
            continue  # an engine never used in this process raised nothing
        describe = getattr(import_module(module), "describe_error", None)
        if describe is not None and (message := describe(exc)) is not None:
            return str(message)
    return None


def connect(kind: str = DEFAULT_KIND, **options: object) -> Engine:
    """The engine ``kind`` (one of ``KINDS``) opened with ``options``.

    ``duckdb``: ``path`` (store file), ``read_only``, ``wait``. ``spark``: ``master`` (e.g.
    ``local[2]`` or ``spark://host:7077``; None: what spark-submit set, else ``local[2]``),
    ``warehouse`` (folder of the result tables).
    """
    from importlib import import_module

    if kind not in _MODULES:
        raise ValueError(f"未知引擎 {kind!r} / unknown engine; known: {', '.join(_MODULES)}")
    module = import_module(_MODULES[kind])
    engine: Engine = module.open_engine(**options)
    return engine
