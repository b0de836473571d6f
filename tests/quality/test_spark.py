"""The whole QC check library on Spark gives exactly the ``qc_issue`` rows (and the four
indicators) it gives on DuckDB.

Two stores: the table-driven case fixture (every check fails at least once) and a small
synthetic region with planted defects (realistic volumes, refunds, front pages).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from qc_fixture import load, merged
from test_checks import CASES_ALL

from huiyan.engine import Store
from huiyan.ingest import ingest
from huiyan.kb import config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import group
from huiyan.quality.indicators import indicators
from huiyan.quality.runner import active_checks, inputs, run_checks
from huiyan.quality.service import store_inputs
from huiyan.quality.spec import INPUT_TABLES
from huiyan.synth.generate import generate

pytestmark = pytest.mark.spark


def _case_store(folder: Path) -> Path:
    db = folder / "cases.duckdb"
    with Store(db) as store:
        load(store, merged(CASES_ALL))
    return db


def _region_store(folder: Path) -> Path:
    generate(folder / "data", cases=300, seed=5, months=2, defect_rate=0.25)
    db = folder / "region.duckdb"
    cfg = config.load()
    with Store(db) as store:
        ingest(folder / "data", store, cfg)
        group.run(RunContext(store, cfg, folder / "data", show_progress=False))
    return db


def _rows(t: pa.Table) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(r.values()) for r in t.to_pylist())


@pytest.mark.parametrize("build", [_case_store, _region_store], ids=["cases", "region"])
def test_qc_identical_on_spark(tmp_path: Path, spark: Any, build: Any) -> None:
    import ibis

    db = build(tmp_path)
    cfg = config.load()
    specs = active_checks(cfg["qc"])
    con = ibis.pyspark.connect(spark)
    med_types = cfg["scope"]["inpatient_med_types"]
    with Store(db) as store:
        dq = store_inputs(store, cfg)
        duck = run_checks(dq, specs)
        store.write("qc_issue", duck, mode="replace")
        duck_ind = indicators(dq, store.table("qc_issue"), inpatient_med_types=med_types)
        duck_ind = duck_ind.to_pyarrow()
        for name in INPUT_TABLES:
            store.ensure(name)
            data = store.read(name)
            # Through Parquet: Ibis's create_table goes through pandas and loses null decimals.
            path = tmp_path / f"in{name}.parquet"  # Spark skips files named _*
            pq.write_table(data, path)
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
    # Reference tables as Ibis in-memory tables, which Ibis registers with the session per query.
    q = inputs(con.table, lambda _name, data: ibis.memtable(data), cfg["qc"])
    sparked = run_checks(q, specs)
    pq.write_table(sparked, tmp_path / "qc_issue.parquet")
    spark.read.parquet(str(tmp_path / "qc_issue.parquet")).createOrReplaceTempView("qc_issue")
    spark_ind = indicators(q, con.table("qc_issue"), inpatient_med_types=med_types).to_pyarrow()
    assert duck.num_rows > 0
    assert len({r["check_id"] for r in duck.to_pylist()}) > 20
    assert duck.column_names == sparked.column_names
    a, b = _rows(duck), _rows(sparked)
    only_duck, only_spark = sorted(a - b, key=str), sorted(b - a, key=str)
    assert (only_duck, only_spark) == ([], []), (only_duck[:5], only_spark[:5])
    assert duck_ind.num_rows > 0
    assert _rows(duck_ind) == _rows(spark_ind.select(duck_ind.column_names))
