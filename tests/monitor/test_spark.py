"""The indicator table on Spark equals the one on DuckDB (same Ibis expressions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.monitor.api import indicator_table
from huiyan.monitor.cases import STORE_TABLES, MonitorInputs, store_inputs
from huiyan.synth import generate

pytestmark = pytest.mark.spark


def test_indicators_identical_on_spark(tmp_path: Path, spark: Any) -> None:
    import ibis

    from huiyan.kb import config as kb_config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.runner import run_steps

    generate(tmp_path / "data", cases=800, seed=5, labels_dir=tmp_path / "labels")
    cfg = config.load(None)
    con = ibis.pyspark.connect(spark)
    with Store(tmp_path / "r.duckdb") as store:
        ctx = RunContext(engine=store, config=kb_config.load(None), data_dir=tmp_path / "data")
        ctx.show_progress = False
        run_steps(ctx, ("ingest", "group", "qc", "price", "audit"))
        duck = indicator_table(store_inputs(store, cfg), cfg["monitor"])
        tables = {}
        for name in STORE_TABLES:
            path = tmp_path / f"in{name}.parquet"
            pq.write_table(store.read(name), path)
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
            tables[name] = con.table(name)
    sparked = indicator_table(
        MonitorInputs(**tables, payment_scheme=cfg["grouping"]["payment_scheme"]), cfg["monitor"]
    )
    key = ("level", "subject", "period", "indicator")

    def rows(t: Any) -> dict:
        return {tuple(r[k] for k in key): r for r in t.to_pylist()}

    a, b = rows(duck), rows(sparked)
    assert len(a) > 1000 and a.keys() == b.keys()
    diffs = [
        (k, col, a[k][col], b[k][col])
        for k in a
        for col in ("value", "numerator", "denominator", "cases")
        if not _same(a[k][col], b[k][col])
    ]
    assert not diffs, diffs[:10]


def _same(x: Any, y: Any) -> bool:
    # Bit for bit: the sums are exact and the ratios IEEE divisions of the same DOUBLEs.
    return x == y
