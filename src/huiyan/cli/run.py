"""``huiyan run`` (the whole pipeline on a dataset) and ``huiyan demo`` (synthetic region + run + report)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from huiyan.cli.console import console, user_errors
from huiyan.engine import DEFAULT_KIND, DEFAULT_STORE, KINDS, MASTER_OPTIONS

if TYPE_CHECKING:
    from huiyan.engine import Engine
    from huiyan.pipeline.context import RunContext

DbOption = Annotated[Path, typer.Option("--db", help="分析库文件 (the analytic store file)")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml (region configuration)")
]


def register(app: typer.Typer) -> None:
    """Register ``run`` and ``demo``."""
    app.command("run")(run)
    app.command("demo")(demo)


def _print_notes(reports: list) -> None:
    """What each step noted (rows written were shown as the step finished)."""
    for r in reports:
        for note in r.notes[:_MAX_NOTES]:
            console.print(f"  · {STEP_LABELS.get(r.step, r.step)}: {note}", highlight=False)
        if len(r.notes) > _MAX_NOTES:
            console.print(
                f"  · {STEP_LABELS.get(r.step, r.step)}: … 另有 {len(r.notes) - _MAX_NOTES} 条"
            )


_MAX_NOTES = 8


def print_summary(store: Engine, *, labels: Path | None = None) -> None:
    """Print the run summary (report.summary) as Rich tables."""
    from rich.table import Table

    from huiyan.report.summary import build_summary, fmt

    for section in build_summary(store, labels=labels).sections:
        table = Table(title=section.title)
        for col in section.columns:
            table.add_column(col, overflow="fold")
        for row in section.rows:
            table.add_row(*[fmt(v) for v in row])
        console.print(table)


STEP_LABELS = {
    "ingest": "导入 ingest",
    "group": "分组 group",
    "qc": "质控 qc",
    "price": "测算 price",
    "audit": "审核 audit",
    "monitor": "监测 monitor",
}


def _chosen_steps(steps: str | None) -> tuple[str, ...]:
    from huiyan.cli.errors import fail
    from huiyan.pipeline.runner import STEPS

    if not steps:
        return STEPS
    chosen = tuple(s.strip() for s in steps.split(",") if s.strip())
    unknown = [s for s in chosen if s not in STEPS]
    if unknown or not chosen:
        fail(
            f"--steps: 未知步骤 unknown step {', '.join(unknown) or repr(steps)}; "
            f"可选 known: {', '.join(STEPS)}"
        )
    return chosen


def run_with_progress(ctx: RunContext, steps: tuple[str, ...], *, force: bool = False) -> list:
    """Run ``steps`` one by one, showing which one is running and what each one wrote."""
    from huiyan.pipeline.runner import STEPS, run_steps

    reports = []
    ordered = [s for s in STEPS if s in steps]
    for i, step in enumerate(ordered, start=1):
        label = STEP_LABELS.get(step, step)
        with console.status(f"[{i}/{len(ordered)}] {label} …"):
            (report,) = run_steps(ctx, (step,), force=force)
        rows = ", ".join(f"{k} {v:,}" for k, v in report.rows.items())
        if report.skipped:
            done = "跳过 skipped (输入未变化 inputs unchanged)"
        else:
            done = rows or "无新数据 nothing new"
        console.print(f"[green]✓[/] [{i}/{len(ordered)}] {label} {report.seconds:.1f} s · {done}")
        reports.append(report)
    return reports


def run(
    data_dir: Annotated[Path, typer.Argument(help="数据集目录 (dataset folder)")],
    db: DbOption = Path(DEFAULT_STORE),
    config: ConfigOption = None,
    steps: Annotated[
        str | None, typer.Option(help="只运行这些步骤, 逗号分隔 (e.g. ingest,qc,group)")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="即使输入未变化也重新运行 (re-run unchanged steps)")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            help="HTML 汇总报告 (summary report; default: next to --db, <db>-report.html)"
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(help="数据库被占用时最多等待的秒数 (seconds to wait for a store in use)"),
    ] = 0.0,
    engine: Annotated[
        str, typer.Option(help=f"计算引擎 engine: {' / '.join(KINDS)} (docs/scale.md)")
    ] = DEFAULT_KIND,
    master: Annotated[
        str | None,
        typer.Option(
            *MASTER_OPTIONS,
            help="分布式引擎的集群地址, 如 local[2] (cluster master; 默认: 提交命令所设, 否则 local[2])",
        ),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="分布式引擎的结果表目录 (results folder; default: next to --db, <db>-warehouse)"
        ),
    ] = None,
) -> None:
    """运行完整流程: 导入 → 分组 → 质控 → 测算 → 审核, 输出汇总与 HTML 报告 (the whole pipeline)."""
    from huiyan.cli.errors import fail, input_dir, output_file
    from huiyan.engine import Store
    from huiyan.kb import config as kb_config
    from huiyan.pipeline.context import RunContext
    from huiyan.report.summary import write_summary_html

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with user_errors():
        chosen = _chosen_steps(steps)
        if "ingest" in chosen:
            input_dir(data_dir)
        html = report or db.with_name(f"{db.stem}-report.html")
        output_file(db)
        output_file(html, (".html",))
        cfg = kb_config.load(config)
        if engine not in KINDS:
            fail(f"--engine: 未知引擎 unknown engine {engine!r}; 可选 known: {', '.join(KINDS)}")
        created = not db.exists()
        try:
            with Store(db, wait=wait) as store:
                ctx = RunContext(engine=store, config=cfg, data_dir=data_dir, force=force)
                if engine != DEFAULT_KIND:
                    reports = _run_on(
                        engine, ctx, chosen, master=master, warehouse=warehouse, force=force
                    )
                else:
                    reports = run_with_progress(ctx, chosen, force=force)
                _print_notes(reports)
                print_summary(store)
                write_summary_html(store, html)
        except BaseException:
            if created:
                _drop_if_empty(db)
            raise
    console.print(f"[bold green]完成[/] 数据库 {db} · 报告 {html}")


def _run_on(
    kind: str,
    ctx: RunContext,
    steps: tuple[str, ...],
    *,
    master: str | None,
    warehouse: Path | None,
    force: bool,
) -> list:
    """The pipeline with engine ``kind`` beside the store (docs/scale.md).

    Ingest runs into the store ``ctx.engine`` (its checks, quarantine and bookkeeping are the
    ingest's own, on a local store); the engine receives its tables (``publish``) and runs
    every other step, keeping the results in ``warehouse``; they become views in the store
    (``link``), so ``huiyan export`` and the summary read them.
    """
    from huiyan.engine import Store, connect
    from huiyan.pipeline.context import RunContext

    store = ctx.engine
    assert isinstance(store, Store)
    reports = run_with_progress(ctx, ("ingest",), force=force) if "ingest" in steps else []
    rest = tuple(s for s in steps if s != "ingest")
    if not rest:
        return reports
    folder = warehouse or store.path.with_name(f"{store.path.stem}-warehouse")
    with connect(kind, master=master, warehouse=folder) as eng:
        with console.status(f"载入结果表目录 loading the warehouse {folder} …"):
            eng.publish(store, store.base_tables())
        other = RunContext(engine=eng, config=ctx.config, data_dir=ctx.data_dir, force=ctx.force)
        reports += run_with_progress(other, rest, force=force)
        store.link(eng, sorted(eng.written))
    return reports


def _drop_if_empty(db: Path) -> None:
    """A run that failed before writing anything leaves no empty store behind."""
    from huiyan.engine import local

    try:
        with local.connect(db) as con:
            ((tables,),) = con.sql("select count(*) from information_schema.tables").fetchall()
    except local.Error:
        return
    if tables == 0:
        db.unlink(missing_ok=True)
        db.with_name(db.name + ".wal").unlink(missing_ok=True)


def demo(
    out: Annotated[Path, typer.Option(help="输出目录 (output folder)")] = Path("demo"),
    cases: Annotated[int, typer.Option(help="结算病例数 (settlements)")] = 20_000,
    seed: Annotated[int, typer.Option(help="随机种子 (seed)")] = 2025,
    violation_rate: Annotated[
        float, typer.Option(help="违规植入比例 (planted violation rate)")
    ] = 0.05,
) -> None:
    """演示: 生成一个模拟统筹区, 运行全部流程并输出汇总报告 (synthesise, run everything, report)."""
    import shutil

    from huiyan.cli.errors import fail, output_dir
    from huiyan.cli.synth import stamp_labels
    from huiyan.engine import Store
    from huiyan.kb import config as kb_config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.runner import STEPS
    from huiyan.report.summary import write_summary_html
    from huiyan.synth import generate

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    data_dir, labels_dir, db = out / "region", out / "labels", out / DEFAULT_STORE
    with user_errors():
        if cases <= 0:
            fail(f"--cases 应为正整数 must be positive, 而不是 {cases}")
        if not 0 <= violation_rate <= 1:
            fail(
                f"--violation-rate 应在 0 到 1 之间 must be within [0, 1], 而不是 {violation_rate}"
            )
        output_dir(out)
        # The demo always starts from scratch so its figures are those of this synthetic region.
        for stale in (data_dir, labels_dir):
            shutil.rmtree(stale, ignore_errors=True)
        db.unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        console.print(f"[bold]生成模拟统筹区[/] {cases:,} 例结算 → {data_dir}")
        generate(
            data_dir, cases=cases, seed=seed, violation_rate=violation_rate, labels_dir=labels_dir
        )
        stamp_labels(data_dir, labels_dir)
        with Store(db) as store:
            ctx = RunContext(engine=store, config=kb_config.load(None), data_dir=data_dir)
            reports = run_with_progress(ctx, STEPS)
            _print_notes(reports)
            print_summary(store, labels=labels_dir / "labels.csv")
            html = write_summary_html(store, out / "report.html", labels=labels_dir / "labels.csv")
    console.print(f"[bold green]完成[/] 数据库 {db} · 报告 {html}")
