"""The whole pipeline on Spark ``local[2]`` writes the same result tables, row for row, as on
DuckDB (issue 20: one engine protocol, the engine chosen by configuration)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.model import TABLES
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import STEPS, run_steps

pytestmark = pytest.mark.spark

AFTER_INGEST = tuple(s for s in STEPS if s != "ingest")
# When a step ran, not what it computed.
RUN_TIME = {"pipeline_run": ["finished_at", "fingerprint"]}


def _rows(t: pa.Table) -> list[tuple[Any, ...]]:
    return sorted((tuple(r.values()) for r in t.to_pylist()), key=repr)


def test_whole_pipeline_identical_on_spark(tmp_path: Path, spark: Any) -> None:
    from huiyan.engine.spark import base_tables, open_engine
    from huiyan.synth.generate import generate

    data = tmp_path / "data"
    generate(data, cases=300, seed=5, labels_dir=tmp_path / "labels")
    cfg = config.load()
    with Store(tmp_path / "duck.duckdb") as duck, Store(tmp_path / "staging.duckdb") as staging:
        run_steps(RunContext(engine=duck, config=cfg, data_dir=data, show_progress=False))
        run_steps(
            RunContext(engine=staging, config=cfg, data_dir=data, show_progress=False), ("ingest",)
        )
        with open_engine(session=spark, warehouse=tmp_path / "wh") as eng:
            adopted = eng.adopt(staging, base_tables(staging))
            assert adopted["setl_list"] == duck.count("setl_list") > 300
            ctx = RunContext(engine=eng, config=cfg, data_dir=data, show_progress=False)
            reports = run_steps(ctx, AFTER_INGEST)
            assert [r.step for r in reports if not r.skipped] == list(AFTER_INGEST)
            written = sorted(eng.written)
            # every result table of every step, compared row for row
            results = {n for n in duck.tables() if n in TABLES and n not in adopted}
            # DuckDB creates a table a step only read (empty); Spark reads it as empty
            unwritten = {n: duck.count(n) for n in results - set(written)}
            assert not any(unwritten.values()), unwritten
            diffs = {}
            for name in written:
                a, b = duck.read(name), eng.read(name)
                assert a.schema == b.schema, name
                drop = RUN_TIME.get(name, [])
                a, b = a.drop_columns(drop), b.drop_columns(drop)
                ra, rb = _rows(a), _rows(b)
                if ra != rb:
                    cols = a.column_names
                    wrong = [(x, y) for x, y in zip(ra, rb, strict=False) if x != y]
                    where = sorted(
                        {cols[i] for x, y in wrong for i in range(len(cols)) if x[i] != y[i]}
                    )
                    diffs[name] = (a.num_rows, b.num_rows, len(wrong), where, wrong[:2])
            counts = {n: duck.count(n) for n in written}
    assert not diffs, diffs
    for name in ("drg_result", "drg_regroup", "qc_issue", "payment", "finding", "indicator"):
        assert counts[name] > 0, name
