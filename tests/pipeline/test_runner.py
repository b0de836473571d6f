"""The whole pipeline on a small synthetic region: every step writes, a re-run duplicates nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pytest

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import STEPS, run_steps
from huiyan.synth import generate

RESULT_TABLES = ("setl_list", "feedetail", "drg_result", "qc_issue", "payment", "finding")


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("region")
    generate(root / "data", cases=600, seed=7, violation_rate=0.1, labels_dir=root / "labels")
    return root / "data", root / "labels" / "labels.csv"


@pytest.fixture
def ctx(region: tuple[Path, Path], tmp_path: Path) -> Iterator[RunContext]:
    """A run over the region into a fresh store, with the shipped configuration."""
    data_dir, _labels = region
    with Store(tmp_path / "run.duckdb") as store:
        yield RunContext(
            engine=store, config=config.load(None), data_dir=data_dir, show_progress=False
        )


def test_pipeline_runs_every_step_and_rerun_adds_nothing(ctx: RunContext) -> None:
    store = ctx.engine
    first = run_steps(ctx, STEPS)
    assert [r.step for r in first] == list(STEPS)
    assert not any(r.skipped for r in first)
    counts = {t: store.count(t) for t in RESULT_TABLES}
    assert all(counts[t] > 0 for t in RESULT_TABLES), counts
    # Every settlement is grouped and priced exactly once for the payment scheme.
    assert store.count("drg_result") == counts["setl_list"]

    second = run_steps(ctx, STEPS)
    assert [r.skipped for r in second if r.step != "ingest"] == [True] * (len(STEPS) - 1)
    assert {t: store.count(t) for t in RESULT_TABLES} == counts

    forced = run_steps(ctx, ("audit",), force=True)
    assert not forced[0].skipped
    assert store.count("finding") == counts["finding"]


def test_changed_configuration_reruns_the_steps(ctx: RunContext) -> None:
    store = ctx.engine
    run_steps(ctx, ("ingest", "group"))
    ctx.config["grouping"]["schemes"] = ["chs-drg-1.1", "liaocheng-2022"]
    again = run_steps(ctx, ("ingest", "group"))
    assert not again[1].skipped
    schemes = {r[0] for r in store.con.sql("select distinct scheme from drg_result").fetchall()}
    assert schemes == {"chs-drg-1.1", "liaocheng-2022"}


def test_grouping_traces_are_stored_for_a_small_run_only(ctx: RunContext) -> None:
    store = ctx.engine
    run_steps(ctx, ("ingest", "group"))  # explain: auto, 600 cases
    traced = store.con.sql(
        "select count(trace), count(*) from drg_result where trace like '%入组%' "
        "or trace like '%ADRG%'"
    ).fetchall()[0]
    assert traced[0] == traced[1] == store.count("drg_result")
    ctx.config["grouping"]["explain_max_cases"] = 100
    again = run_steps(ctx, ("group",), force=True)
    assert store.con.sql("select count(trace) from drg_result").fetchall()[0][0] == 0
    assert any("未保存分组路径" in n for n in again[0].notes)


def test_unknown_step_is_an_error(store: Store) -> None:
    ctx = RunContext(engine=store, config=config.load(None))
    with pytest.raises(ValueError, match="unknown steps"):
        run_steps(ctx, ("ingest", "grup"))


def test_pre_and_in_stage_runs_keep_the_post_findings(ctx: RunContext) -> None:
    """``audit --stage pre|in`` over a year replaces its own stage's findings only: the post
    findings that settlement deducts, and what the reports count, stay as they were."""
    from huiyan.pipeline.steps import audit as step
    from huiyan.report.summary import build_summary
    from huiyan.settlement.run import settle

    store = ctx.engine
    run_steps(ctx, STEPS)
    post = store.read("finding").sort_by("jr_id")
    report_before = build_summary(store).sections
    year = store.to_arrow(store.table("setl_list").dscg_time.max().year().as_table())[0][0]
    period = f"{year.as_py()}-12"
    ledger_before = settle(store, ctx.config, period=period, year_end_clearing=True).cases
    assert any(c["deduction"] for c in ledger_before)

    for stage in ("pre", "in", "in"):
        step.run(ctx, stage=stage)
    stored = store.read("finding")
    by_stage = {s: stored.filter(pc.equal(stored.column("stage"), s)) for s in ("pre", "in")}
    assert by_stage["in"].num_rows > 0 and by_stage["pre"].num_rows > 0
    # The second "in" run replaced the first: no finding twice within a stage.
    keys = zip(stored.column("stage").to_pylist(), stored.column("jr_id").to_pylist(), strict=True)
    assert len(set(keys)) == stored.num_rows
    kept = stored.filter(pc.equal(stored.column("stage"), "post")).sort_by("jr_id")
    assert kept.equals(post)
    assert build_summary(store).sections == report_before
    assert settle(store, ctx.config, period=period, year_end_clearing=True).cases == ledger_before
