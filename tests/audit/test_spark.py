"""The whole rule library on Spark gives exactly the findings it gives on DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from huiyan.audit import engine
from huiyan.audit.inputs import INPUT_TABLES, Source, bind, store_source
from huiyan.engine import Store
from huiyan.kb import config

from .region import build_region

pytestmark = pytest.mark.spark


def _sorted(t: pa.Table) -> list[dict[str, Any]]:
    return sorted(t.to_pylist(), key=lambda r: (r["rule_id"], r["setl_id"], r["jr_id"]))


def test_library_identical_on_spark(tmp_path: Path, spark: Any) -> None:
    import ibis

    db, _ = build_region(tmp_path, cases=600, seed=7)
    cfg = config.load()
    con = ibis.pyspark.connect(spark)
    with Store(db) as store:
        inputs = bind(store_source(store), cfg)
        duck = engine.run(inputs, cfg["audit"]).findings
        inputs.release()

        def to_spark(name: str, data: pa.Table) -> Any:
            # Through Parquet: Ibis's create_table goes through pandas and loses null decimals.
            if data.num_rows == 0:
                return con.create_table(
                    name, schema=ibis.Schema.from_pyarrow(data.schema), overwrite=True
                )
            path = tmp_path / f"in{name}.parquet"  # Spark skips files named _*
            pq.write_table(data, path)
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
            return con.table(name)

        for name in INPUT_TABLES:
            store.ensure(name)
            to_spark(name, store.read(name))
        source = Source(
            table=con.table,
            arrow=lambda n: store.read(n) if store.has(n) else None,
            small=to_spark,
        )
        on_spark = bind(source, cfg)
        try:
            sparked = engine.run(on_spark, cfg["audit"]).findings
        finally:
            on_spark.release()
    assert duck.num_rows > 0
    a, b = _sorted(duck), _sorted(sparked)
    diffs = [
        (x["rule_id"], k, x[k], y[k]) for x, y in zip(a, b, strict=False) for k in x if x[k] != y[k]
    ]
    assert len(a) == len(b) and not diffs, diffs[:10]


# (value, text): trailing zeros cut after the decimal point only, half-up at the fen, no exponent.
_NUM_CASES = [
    ("93.60", "93.6"),
    ("93.10", "93.1"),
    ("72", "72"),
    ("100", "100"),
    ("0.05", "0.05"),
    ("1.005", "1.01"),
    ("10000000.5", "10000000.5"),
    ("-0.50", "-0.5"),
    ("0", "0"),
]


def test_number_texts_identical_on_spark(tmp_path: Path, spark: Any) -> None:
    """``num`` (prices, limits, quantities in finding texts) writes the same text on both engines,
    for decimals and for doubles (Spark once read the ``\\1`` of a regex replacement as a
    literal 1 and wrote 93.60 as 931)."""
    from decimal import Decimal

    import ibis

    from huiyan.audit.helpers import num

    data = pa.table(
        {
            "i": list(range(len(_NUM_CASES))),
            "d": pa.array([Decimal(v) for v, _ in _NUM_CASES], pa.decimal128(18, 6)),
            "f": [float(v) for v, _ in _NUM_CASES],
        }
    )
    path = tmp_path / "num.parquet"
    pq.write_table(data, path)
    spark.read.parquet(str(path)).createOrReplaceTempView("num_cases")
    tables = {
        "duckdb": ibis.duckdb.connect().create_table("num_cases", data),
        "spark": ibis.pyspark.connect(spark).table("num_cases"),
    }
    expected = [{"d": text, "f": text} for _, text in _NUM_CASES]
    for engine_name, t in tables.items():
        got = t.select(t.i, d=num(t.d), f=num(t.f)).order_by("i").to_pyarrow().to_pylist()
        assert [{"d": r["d"], "f": r["f"]} for r in got] == expected, engine_name
