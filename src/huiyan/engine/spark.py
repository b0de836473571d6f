"""Spark engine: the same Ibis expressions on a Spark cluster, results as Parquet.

A province that outgrows one machine runs ``huiyan run DATA --engine spark --spark-master URL``
(docs/scale.md). Inputs are read into Spark with the canonical schema, table logic runs as
Ibis expressions on Ibis's PySpark backend, and per-case Python work (the DRG interpreter) runs
on the executors over Arrow record batches (``DataFrame.mapInArrow``): the same function that
DuckDB runs over the whole table runs here over each partition.

Results are Parquet folders, one per table, under the results directory (``<out>/<table>/``),
written with the model's schema so that ``huiyan export`` and DuckDB read them as they are.

PySpark is imported only when this module is used (``pip install 'huiyan[spark]'``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from huiyan.model import table

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends.pyspark import Backend as IbisSpark
    from pyspark.sql import DataFrame, SparkSession

BatchFn = Callable[[pa.Table], pa.Table]

# What a test or a one-machine run needs (stack.md); a cluster sets its own with spark-submit.
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


def session(
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
    """The Spark StructType of an Arrow schema (decimals, dates and timestamps kept)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _batches_fn(fn: BatchFn, schema: pa.Schema) -> Callable[[Iterator[pa.RecordBatch]], Any]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # A whole partition at once: the interpreter is set-based, so bigger batches are faster,
        # and a partition is what one task was given to hold anyway.
        parts = list(batches)
        if not parts:
            return
        out = fn(pa.Table.from_batches(parts))
        out = out.select(schema.names).cast(schema)
        yield from out.to_batches()

    return run


def map_batches(df: DataFrame, fn: BatchFn, schema: pa.Schema) -> DataFrame:
    """``fn`` over every partition of ``df`` as Arrow, on the executors; rows of ``schema``.

    ``fn`` must be row-wise (a row's result depends on that row only) and picklable (a
    module-level function or a ``functools.partial`` of one): partitions are grouped apart.
    """
    return df.mapInArrow(_batches_fn(fn, schema), spark_schema(schema))


class SparkEngine:
    """A Spark session, its Ibis backend and the results directory of one run."""

    def __init__(self, spark: SparkSession, results: str | Path) -> None:
        import ibis

        self.spark = spark
        self.results = Path(results)
        self.ibis: IbisSpark = ibis.pyspark.connect(spark)
        self._scratch = Path(tempfile.mkdtemp(prefix="huiyan-spark-"))

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ conversions
    def dataframe(self, expr: ir.Table) -> DataFrame:
        """The Spark DataFrame of an Ibis expression on this engine."""
        return self.spark.sql(str(self.ibis.compile(expr)))

    def expr(self, df: DataFrame) -> ir.Table:
        """An Ibis table over a Spark DataFrame (a temporary view named for it)."""
        name = f"huiyan_{uuid.uuid4().hex[:12]}"
        df.createOrReplaceTempView(name)
        return self.ibis.table(name)

    def from_arrow(self, data: pa.Table) -> DataFrame:
        """A Spark DataFrame of an Arrow table, types kept (through Parquet: pandas, which
        createDataFrame would go through, loses null decimals and list columns' types)."""
        path = self._scratch / f"t{uuid.uuid4().hex[:12]}.parquet"
        pq.write_table(data, path)
        return self.spark.read.parquet(str(path))

    def to_arrow(self, df: DataFrame, schema: pa.Schema | None = None) -> pa.Table:
        """Collect a DataFrame as Arrow (``schema``: cast to it, e.g. the model's)."""
        out = df.toArrow()
        return out.cast(schema) if schema is not None else out

    def map_batches(self, expr: ir.Table, fn: BatchFn, schema: pa.Schema) -> ir.Table:
        """``fn`` over ``expr``'s partitions (see ``map_batches``), as an Ibis table."""
        return self.expr(map_batches(self.dataframe(expr), fn, schema))

    # ------------------------------------------------------------------ results as Parquet
    def path(self, name: str) -> Path:
        return self.results / name

    def has(self, name: str) -> bool:
        return self.path(name).is_dir() and any(self.path(name).glob("*.parquet"))

    def read_df(self, name: str) -> DataFrame:
        """A stored table as a DataFrame; an empty canonical table if not written yet."""
        schema = table(name).arrow_schema()
        if not self.has(name):
            return self.spark.createDataFrame([], spark_schema(schema))
        return self.spark.read.schema(spark_schema(schema)).parquet(str(self.path(name)))

    def write_df(self, name: str, df: DataFrame, *, mode: str = "append") -> int:
        """Write a DataFrame as the table's Parquet folder (``replace`` overwrites it).

        Columns are conformed to the model: unknown columns are an error, missing ones null.
        Returns the number of rows written.
        """
        if mode not in ("append", "replace"):
            raise ValueError(f"mode must be append or replace, not {mode!r}")
        from pyspark.sql import functions as F

        t = table(name)
        unknown = set(df.columns) - set(t.columns)
        if unknown:
            raise ValueError(f"table {name}: unknown columns {sorted(unknown)}")
        target = spark_schema(t.arrow_schema())
        cols = [
            (F.col(f"`{f.name}`") if f.name in df.columns else F.lit(None))
            .cast(f.dataType)
            .alias(f.name)
            for f in target.fields
        ]
        conformed = df.select(*cols)
        if mode == "replace":
            # Written aside and swapped in: the new rows may be computed from the old ones.
            staging = self._scratch / f"{name}-{uuid.uuid4().hex[:8]}"
            conformed.write.mode("overwrite").parquet(str(staging))
            n = self.spark.read.parquet(str(staging)).count()
            self.path(name).parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.path(name), ignore_errors=True)
            shutil.move(str(staging), self.path(name))
            return n
        before = self.read_df(name).count() if self.has(name) else 0
        conformed.write.mode("append").parquet(str(self.path(name)))
        return self.read_df(name).count() - before
