"""Spark engine: the same Ibis expressions on a Spark cluster, results as Parquet.

A province that outgrows one machine runs ``huiyan run DATA --engine spark --master URL``
(docs/scale.md). Inputs are read into Spark with the canonical schema, table logic runs as
Ibis expressions on Ibis's PySpark backend, and per-case Python work (the DRG interpreter) runs
on the executors over Arrow record batches (``DataFrame.mapInArrow``): the same function that
DuckDB runs over the whole table runs here over each partition.

Results are Parquet folders, one per table, under the results directory (``<out>/<table>/``),
written with the model's schema so that ``huiyan export`` and DuckDB read them as they are.

PySpark is imported only when this module is used (``pip install 'huiyan[spark]'``).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import sysconfig
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from huiyan.engine.base import BatchFn, Capabilities, Engine, WriteMode
from huiyan.model import table

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends.pyspark import Backend as IbisSpark
    from pyspark.sql import DataFrame, SparkSession


# What a test or a one-machine run needs; a cluster sets its own with spark-submit.
LOCAL_CONF: dict[str, str] = {
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
# Always: timestamps read and written as stored (the model's timestamps carry no zone), and
# Arrow for every transfer between the JVM and Python.
FIXED_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def start_session(
    master: str | None = None, *, conf: dict[str, str] | None = None, app: str = "huiyan"
) -> SparkSession:
    """A Spark session on ``master`` (``local[N]`` or a cluster URL; None: what spark-submit set).

    A local master gets the small-machine settings of ``LOCAL_CONF`` unless ``conf`` overrides
    them; a cluster master keeps what the submit command configured.
    """
    if master is None or master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Local Python workers run this interpreter (it has huiyan); a cluster's executors use
        # the environment shipped with spark-submit (docs/scale.md).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    if master:
        builder = builder.master(master)
    settings = dict(LOCAL_CONF) if master is None or master.startswith("local") else {}
    settings.update(FIXED_CONF)
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def spark_schema(schema: pa.Schema) -> Any:
    """The Spark StructType of an Arrow schema (decimals, dates kept; the model's timestamps
    carry no zone, so they are Spark's TIMESTAMP_NTZ)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema, prefer_timestamp_ntz=True)


def _batches_fn(
    fn: BatchFn, schema: pa.Schema
) -> Callable[[Iterable[pa.RecordBatch]], Iterable[pa.RecordBatch]]:
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # A whole partition at once: the interpreter is set-based, so bigger batches are faster,
        # and a partition is what one task was given to hold anyway.
        parts = list(batches)
        if not parts:
            return
        whole = pa.Table.from_batches(parts).combine_chunks().to_batches()
        out = fn(whole[0] if whole else parts[0])
        out = out.select(schema.names).cast(schema)
        yield from out.to_batches()

    return run


def _installed(module_name: str) -> bool:
    """Whether the executors can import ``module_name``: huiyan itself, or a module of the
    Python installation (standard library, site-packages), which a cluster's executors get
    from the environment shipped with spark-submit (docs/scale.md)."""
    if module_name.partition(".")[0] == "huiyan":
        return True
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if module is None or file is None:  # built-in, or nothing we could ship anyway
        return True
    roots = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    path = Path(file).resolve()
    return any(path.is_relative_to(Path(root).resolve()) for root in roots if root)


def _shipped_modules(fn: Any) -> list[ModuleType]:
    """The modules that ``fn`` (a function, or a ``functools.partial`` of one and its
    arguments) comes from and that the executors cannot import."""
    found: dict[str, ModuleType] = {}
    todo = [fn]
    while todo:
        obj = todo.pop()
        if isinstance(obj, functools.partial):
            todo.extend([obj.func, *obj.args, *obj.keywords.values()])
            continue
        name = getattr(obj, "__module__", None) or type(obj).__module__
        if name and name != "__main__" and name not in found and not _installed(name):
            found[name] = sys.modules[name]
    return list(found.values())


@contextmanager
def _by_value(modules: Sequence[ModuleType]) -> Iterator[None]:
    """Pickle ``modules`` by value (their code travels with the task) while inside."""
    from pyspark import cloudpickle

    added = [m for m in modules if m.__name__ not in cloudpickle.list_registry_pickle_by_value()]
    for m in added:
        cloudpickle.register_pickle_by_value(m)
    try:
        yield
    finally:
        for m in added:
            cloudpickle.unregister_pickle_by_value(m)


def map_batches(df: DataFrame, fn: BatchFn, schema: pa.Schema) -> DataFrame:
    """``fn`` over every partition of ``df`` as Arrow, on the executors; rows of ``schema``.

    ``fn`` must be row-wise (a row's result depends on that row only) and picklable (a
    module-level function or a ``functools.partial`` of one): partitions are grouped apart.
    """
    # cloudpickle pickles a module-level function by reference (module and name), and the
    # executors' Python imports that module again. That works for huiyan and installed packages,
    # not for a function from a file the driver alone has on its path (a user's plugin, a test
    # module that pytest imported from tests/): the task fails on the executor with
    # ModuleNotFoundError. Such modules are pickled by value instead. mapInArrow pickles the
    # function when it is called, so the registration can end right after.
    with _by_value(_shipped_modules(fn)):
        return df.mapInArrow(_batches_fn(fn, schema), spark_schema(schema))


class SparkEngine(Engine):
    """The Spark engine: tables are Parquet folders under ``warehouse`` (one per table),
    expressions run on Ibis's PySpark backend, per-case Python runs on the executors.

    Each write is atomic on its table (written aside, then swapped in); there are no
    multi-table transactions (``capabilities.transactions`` is False): a run killed inside a
    step leaves that step's earlier tables written, and the rerun writes them again.
    """

    name = "spark"
    capabilities = Capabilities(distributed=True, temp_tables=True)

    def __init__(self, spark: SparkSession, warehouse: str | Path) -> None:
        import ibis

        self.spark = spark
        self.warehouse = Path(warehouse)
        self.warehouse.mkdir(parents=True, exist_ok=True)
        self._ibis: IbisSpark = ibis.pyspark.connect(spark)
        self._scratch = self.warehouse / "_scratch"
        self._depth = 0
        self._views: set[str] = set()
        #: Tables written through this engine since it was opened (a run's results).
        self.written: set[str] = set()

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self._views.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def describe(self) -> str:
        return f"spark {self.spark.sparkContext.master} · {self.warehouse}"

    @property
    def ibis(self) -> IbisSpark:
        return self._ibis

    # ------------------------------------------------------------------ conversions
    def dataframe(self, expr: ir.Table) -> DataFrame:
        """The Spark DataFrame of an Ibis expression on this engine."""
        # In-memory tables (ibis.memtable) the expression names become views first, as Ibis's
        # own execute does.
        self._ibis._run_pre_execute_hooks(expr)
        return self.spark.sql(str(self._ibis.compile(expr)))

    def view(self, df: DataFrame, name: str | None = None) -> ir.Table:
        view = name or f"huiyan_{uuid.uuid4().hex[:12]}"
        df.createOrReplaceTempView(view)
        self._views.add(view)
        return self._ibis.table(view)

    def _scratch_path(self, stem: str) -> Path:
        self._scratch.mkdir(parents=True, exist_ok=True)
        return self._scratch / f"{stem}-{uuid.uuid4().hex[:12]}"

    def from_arrow(self, data: pa.Table) -> DataFrame:
        """A Spark DataFrame of an Arrow table, types kept (through Parquet: pandas, which
        createDataFrame would go through, loses null decimals and list columns' types)."""
        path = self._scratch_path("arrow")
        path.mkdir(parents=True)
        pq.write_table(data, path / "part-0.parquet")
        return self.spark.read.schema(spark_schema(data.schema)).parquet(str(path))

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        out = self.dataframe(expr).toArrow()
        schema = expr.schema().to_pyarrow()
        # Spark hands timestamps over zoned (UTC); the expression's types are the contract.
        return out.rename_columns(schema.names).cast(schema)

    def map_batches(
        self, expr: ir.Table, fn: BatchFn, schema: pa.Schema, *, batch_size: int = 100_000
    ) -> pa.Table | ir.Table:
        """``fn`` over every partition of ``expr`` on the executors (``mapInArrow``)."""
        return self.view(map_batches(self.dataframe(expr), fn, schema))

    # ------------------------------------------------------------------ stored tables
    def path(self, name: str) -> Path:
        return self.warehouse / name

    def has(self, name: str) -> bool:
        return (self.path(name) / "_SUCCESS").exists() or any(self.path(name).glob("*.parquet"))

    def files(self, name: str) -> Path | None:
        return self.path(name) if self.has(name) else None

    def tables(self) -> list[str]:
        if not self.warehouse.is_dir():
            return []
        return sorted(p.name for p in self.warehouse.iterdir() if p.is_dir() and self.has(p.name))

    def _df(self, name: str) -> DataFrame:
        schema = spark_schema(table(name).arrow_schema())
        if not self.has(name):
            return self.spark.createDataFrame([], schema)
        return self.spark.read.schema(schema).parquet(str(self.path(name)))

    def table(self, name: str) -> ir.Table:
        # The view is re-made from the folder each time: a replaced table is new files.
        return self.view(self._df(name), name)

    def count(self, name: str) -> int:
        return self._df(name).count() if self.has(name) else 0

    def read(self, name: str) -> pa.Table:
        return table(name).conform(self.to_arrow(self.table(name)))

    # ------------------------------------------------------------------ derived tables
    def materialize(self, expr: ir.Table) -> ir.Table:
        # Ibis's cache (a cached DataFrame behind a temporary view): the table it returns can
        # also be released by ``table.release()``, as callers of the DuckDB engine do.
        return expr.cache()

    def release(self, table: ir.Table) -> None:
        view = table.get_name()
        if view in self._views:
            self.spark.catalog.dropTempView(view)
            self._views.discard(view)
            return
        with suppress(Exception):  # already released, or not a cached table
            table.release()

    def register(self, name: str, data: pa.Table) -> ir.Table:
        return self.view(self.from_arrow(data), name)

    # ------------------------------------------------------------------ writing
    def _conformed(self, name: str, data: pa.Table | ir.Table) -> DataFrame | pa.Table:
        t = table(name)
        columns = data.column_names if isinstance(data, pa.Table) else list(data.columns)
        unknown = set(columns) - set(t.columns)
        if unknown:
            raise ValueError(f"table {name}: unknown columns {sorted(unknown)}")
        if isinstance(data, pa.Table):
            return t.conform(data)
        from pyspark.sql import functions as F

        df = self.dataframe(data)
        target = spark_schema(t.arrow_schema())
        return df.select(
            *[
                (F.col(f"`{f.name}`") if f.name in df.columns else F.lit(None))
                .cast(f.dataType)
                .alias(f.name)
                for f in target.fields
            ]
        )

    def _write_aside(self, name: str, data: pa.Table | ir.Table) -> tuple[Path, int]:
        """The conformed rows written to a new folder (not yet the table's); (folder, rows)."""
        out = self._conformed(name, data)
        path = self._scratch_path(name)
        if isinstance(out, pa.Table):
            path.mkdir(parents=True)
            pq.write_table(out, path / "part-00000.parquet")
            (path / "_SUCCESS").touch()
            return path, out.num_rows
        out.write.mode("overwrite").parquet(str(path))
        return path, self.spark.read.parquet(str(path)).count()

    def _swap_in(self, name: str, staged: Path) -> None:
        self.written.add(name)
        target = self.path(name)
        old = self._scratch_path(f"{name}-old")
        if target.exists():
            target.rename(old)  # one rename each way: a reader sees the old or the new folder
        staged.rename(target)
        shutil.rmtree(old, ignore_errors=True)

    def write(self, name: str, data: pa.Table | ir.Table, *, mode: WriteMode = "append") -> int:
        if mode not in ("append", "replace"):
            raise ValueError(f"mode must be append or replace, not {mode!r}")
        staged, n = self._write_aside(name, data)
        if mode == "replace" or not self.has(name):
            self._swap_in(name, staged)
        else:
            # Appending is adding files: each new file is renamed in whole.
            for f in staged.glob("*.parquet"):
                f.rename(self.path(name) / f"{uuid.uuid4().hex[:12]}-{f.name}")
            shutil.rmtree(staged, ignore_errors=True)
            self.written.add(name)
        return n

    def _keep(self, name: str, match: Mapping[str, Sequence[Any] | pa.Array]) -> ir.Table:
        t = self.table(name)
        hit = None
        for column, values in match.items():
            vals = values.to_pylist() if isinstance(values, pa.Array) else list(values)
            cond = t[column].isin(vals)
            hit = cond if hit is None else hit & cond
        return t if hit is None else t.filter(~hit.fill_null(False))

    def delete_where(self, name: str, match: Mapping[str, Sequence[Any] | pa.Array]) -> int:
        if not self.has(name):
            return 0
        before = self.count(name)
        after = self.write(name, self._keep(name, match), mode="replace")
        return before - after

    def replace_where(
        self, name: str, match: Mapping[str, Sequence[Any] | pa.Array], data: pa.Table | ir.Table
    ) -> int:
        """The kept rows and ``data`` written as one new version of the table (one swap)."""
        if not self.has(name):
            return self.write(name, data, mode="replace")
        kept, _ = self._write_aside(name, self._keep(name, match))
        new, n = self._write_aside(name, data)
        for f in new.glob("*.parquet"):
            f.rename(kept / f"{uuid.uuid4().hex[:12]}-{f.name}")
        shutil.rmtree(new, ignore_errors=True)
        self._swap_in(name, kept)
        return n

    def drop(self, name: str) -> None:
        shutil.rmtree(self.path(name), ignore_errors=True)

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # No multi-table commit on Parquet folders (capabilities.transactions is False); each
        # write inside is atomic on its own table.
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # ------------------------------------------------------------------ inputs
    def publish(self, source: Engine, names: Sequence[str]) -> dict[str, int]:
        """The tables of the local store an ingest loaded, streamed in (``adopt``)."""
        if source is self:
            return {}
        return self.adopt(source, [n for n in names if source.has(n)])

    def adopt(self, store: Engine, names: Sequence[str] | None = None) -> dict[str, int]:
        """Copy the stored tables of another engine (the DuckDB staging store a Spark run
        ingests into, applying the ingest's checks and quarantine) into this warehouse.

        Returns rows per table. Big tables stream in record batches (bounded memory).
        """
        from huiyan.model import TABLES

        rows: dict[str, int] = {}
        for name in names if names is not None else [n for n in store.tables() if n in TABLES]:
            schema = table(name).arrow_schema()
            path = self._scratch_path(name)
            path.mkdir(parents=True)
            n = 0
            with pq.ParquetWriter(path / "part-00000.parquet", schema) as writer:
                for batch in store.to_batches(store.table(name), batch_size=500_000):
                    part = table(name).conform(pa.Table.from_batches([batch]))
                    writer.write_table(part)
                    n += part.num_rows
            (path / "_SUCCESS").touch()
            self._swap_in(name, path)
            self.written.discard(name)  # an input, not a result of this run
            rows[name] = n
        return rows


def open_engine(
    *,
    master: str | None = None,
    warehouse: str | Path = "huiyan-warehouse",
    session: SparkSession | None = None,
    conf: dict[str, str] | None = None,
) -> SparkEngine:
    """The Spark engine on ``master`` (or an existing ``session``), tables under ``warehouse``.

    Without a master: the one spark-submit set, or a local session (``local[2]``) when the
    process was not submitted.
    """
    submitted = "SPARK_HOME" in os.environ or "PYSPARK_GATEWAY_PORT" in os.environ
    if master is None and session is None and not submitted:
        master = "local[2]"
    return SparkEngine(session or start_session(master, conf=conf), warehouse)


def base_tables(store: Engine) -> list[str]:
    """The canonical tables a local store holds as its own (not views of a Spark warehouse)."""
    return store.base_tables()


def link_results(store: Engine, eng: SparkEngine, names: Sequence[str]) -> None:
    """Make the Spark run's result tables readable from the local store (``huiyan export``,
    the summary report): each becomes a view of its Parquet folder in the warehouse."""
    store.link(eng, names)
