"""``huiyan ingest DATA_DIR``: load a dataset folder into the store, quarantining bad rows."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, progress, user_errors
from huiyan.cli.errors import fail, input_dir, output_file
from huiyan.engine import DEFAULT_STORE


def register(app: typer.Typer) -> None:
    """Register ``ingest``."""
    app.command("ingest")(ingest)


def ingest(
    data_dir: Annotated[Path, typer.Argument(help="数据集目录 (dataset folder)")],
    db: Annotated[Path, typer.Option("--db", help="分析库文件")] = Path(DEFAULT_STORE),
    config: Annotated[
        Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml")
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", help="数据库被占用时最多等待的秒数 (seconds to wait for a store in use)"
        ),
    ] = 0.0,
) -> None:
    """导入数据集: 校验、编码映射、隔离问题行 (ingest, validate, map codes, quarantine bad rows)."""
    from rich.table import Table

    from huiyan.engine import Store
    from huiyan.ingest import ingest as run_ingest
    from huiyan.kb import config as kb_config

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with user_errors():
        input_dir(data_dir)
        output_file(db)
        cfg = kb_config.load(config)
    with user_errors(), Store(db, wait=wait) as store, progress() as bar:
        task = bar.add_task("导入 ingest", total=None)

        def start(n: int) -> None:
            bar.update(task, total=n)

        def tick(what: str) -> None:
            bar.update(task, description=f"导入 {what}")
            bar.advance(task)

        report = run_ingest(data_dir, store, cfg, tick=tick, on_start=start)
    if not report.tables and not report.skipped_files:
        with user_errors():
            unknown = f"; 未识别的文件 unknown files: {', '.join(report.unknown_files[:5])}"
            fail(
                f"{data_dir}: 没有可识别的数据表文件 no table files "
                f"(如 setl_list.csv, feedetail.parquet){unknown if report.unknown_files else ''}"
            )
    table = Table(title=f"导入结果 ingest (批次 {report.batch_id})")
    for col in ("表 table", "读入 read", "接收 accepted", "隔离 quarantined", "替换 replaced"):
        table.add_column(col, justify="left" if col.startswith("表") else "right", overflow="fold")
    for name, c in report.tables.items():
        table.add_row(
            name, f"{c.read:,}", f"{c.accepted:,}", f"{c.quarantined:,}", f"{c.replaced:,}"
        )
    console.print(table)
    if report.scope:
        console.print(
            "付费范围 scope: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.scope.items()))
        )
    for note in report.notes:
        console.print(f"· {note}")
