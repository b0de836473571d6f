"""The DRG interpreter distributed over Spark partitions gives what it gives in one process."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from huiyan.engine import Store
from huiyan.grouping.outputs import drg_result_rows
from huiyan.grouping.store_cases import cases_expr, cases_from_store
from huiyan.model.tables import DISEINFO, DRG_RESULT, OPRNINFO, SETL_LIST

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def region_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from huiyan.ingest import ingest
    from huiyan.kb import config
    from huiyan.synth.generate import generate

    folder = tmp_path_factory.mktemp("region")
    generate(folder / "data", cases=1500, seed=11, labels_dir=folder / "labels")
    db = folder / "region.duckdb"
    with Store(db) as store:
        ingest(folder / "data", store, config.load())
    return db


def _rows(t: pa.Table) -> list[dict[str, Any]]:
    return sorted(t.to_pylist(), key=lambda r: r.get("case_id") or r["setl_id"])


def test_case_table_and_grouping_identical_on_spark(
    region_store: Path, spark: Any, tmp_path: Path
) -> None:
    from huiyan.engine.spark import open_engine

    with Store(region_store, read_only=True) as store:
        duck_cases = cases_from_store(store)
        inputs = {t.name: store.read(t.name) for t in (SETL_LIST, DISEINFO, OPRNINFO)}
    rows = partial(drg_result_rows, scheme="chs-drg-1.1", explain=True)
    duck = rows(duck_cases)
    assert duck_cases.num_rows == inputs[SETL_LIST.name].num_rows > 1000
    assert pa.compute.sum(pa.compute.equal(duck.column("status"), "SUCCESS")).as_py() > 1000

    with open_engine(session=spark, warehouse=tmp_path / "wh") as eng:
        views = {n: eng.view(eng.from_arrow(t).repartition(3), n) for n, t in inputs.items()}
        cases = cases_expr(views[SETL_LIST.name], views[DISEINFO.name], views[OPRNINFO.name])
        spark_cases = eng.to_arrow(cases)
        # the case table itself: same rows, code lists in the same order
        assert _rows(spark_cases.cast(duck_cases.schema)) == _rows(duck_cases)

        cases_df = eng.dataframe(cases).repartition(4)
        assert cases_df.rdd.getNumPartitions() == 4
        grouped = eng.map_batches(eng.view(cases_df), rows, DRG_RESULT.arrow_schema())
        assert not isinstance(grouped, pa.Table)  # stays on Spark until collected
        result = eng.to_arrow(grouped).cast(DRG_RESULT.arrow_schema())
    assert _rows(result) == _rows(duck)
