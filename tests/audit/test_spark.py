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
