"""``huiyan run`` on a dataset: progress per step, the demo's summary and HTML report, ``--force``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.cli.run import STEP_LABELS
from huiyan.engine import Store
from huiyan.pipeline.runner import STEPS
from huiyan.synth import generate

runner = CliRunner()


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("run")
    generate(base / "region", cases=150, seed=7, hospitals=3, months=2, labels_dir=base / "labels")
    return base / "region"


@pytest.fixture(scope="module")
def first_run(region: Path) -> tuple[Path, str]:
    db = region.parent / "r.duckdb"
    result = runner.invoke(app, ["run", str(region), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db, result.output


def test_each_step_reports_its_progress(first_run: tuple[Path, str]) -> None:
    _, output = first_run
    for i, step in enumerate(STEPS, 1):
        assert f"[{i}/{len(STEPS)}] {STEP_LABELS[step]}" in output
    assert STEP_LABELS["audit"] == "审核 audit"


def test_ends_with_the_summary_and_the_html_report(first_run: tuple[Path, str]) -> None:
    db, output = first_run
    assert "智能审核" in output and "数据导入" in output
    html = db.with_name("r-report.html")
    assert html.is_file() and f"报告 {html}" in output.replace("\n", "")
    page = html.read_text("utf-8")
    assert "模拟支付" in page and "结算清单质控" in page


def test_a_second_run_skips_unchanged_steps_and_force_reruns_ingest(
    region: Path, first_run: tuple[Path, str]
) -> None:
    db, _ = first_run
    with Store(db, read_only=True) as store:
        settlements = store.count("setl_list")
    again = runner.invoke(app, ["run", str(region), "--db", str(db), "--steps", "ingest,group"])
    assert again.exit_code == 0, again.output
    lines = again.output.splitlines()
    assert "[1/2] 导入 ingest" in lines[0] and "无新数据 nothing new" in lines[0]
    assert "[2/2] 分组 group" in lines[1] and "跳过 skipped" in lines[1]
    forced = runner.invoke(
        app, ["run", str(region), "--db", str(db), "--steps", "ingest", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert f"setl_list {settlements:,}" in forced.output
    with Store(db, read_only=True) as store:
        assert store.count("setl_list") == settlements  # replaced, not duplicated


def test_tables_keep_numbers_whole_at_80_columns(first_run: tuple[Path, str]) -> None:
    from huiyan.report.tabular import display_width

    db, _ = first_run
    with Store(db, read_only=True) as store:
        ((period,),) = store.con.sql(
            "select strftime(max(dscg_time), '%Y-%m') from setl_list"
        ).fetchall()
    for args in (["settle", "--period", period], ["qc"], ["audit"]):
        result = runner.invoke(app, [*args, "--db", str(db)], terminal_width=80)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert all(display_width(line) <= 80 for line in lines), result.output
        assert "…" not in result.output, result.output
    settle = runner.invoke(app, ["settle", "--period", period, "--db", str(db)])
    figures = [w for line in settle.output.splitlines() for w in line.split() if "," in w]
    assert figures and all(w.replace(",", "").replace(".", "").isdigit() for w in figures)
