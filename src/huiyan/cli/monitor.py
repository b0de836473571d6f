"""``huiyan monitor``: indicators and warnings (监测预警) on a store, optionally the workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, user_errors
from huiyan.engine import DEFAULT_STORE

DbOption = Annotated[Path, typer.Option("--db", help="分析库文件 (the analytic store file)")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml (region configuration)")
]


def register(app: typer.Typer) -> None:
    """Register ``monitor``."""
    app.command("monitor")(monitor)


def monitor(
    db: DbOption = Path(DEFAULT_STORE),
    config: ConfigOption = None,
    report: Annotated[
        Path | None, typer.Option(help="监测预警Excel报告 (monitoring workbook .xlsx)")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(help="复核工作库 URL/文件: 确认扣减金额取终审结果 (review workflow database)"),
    ] = None,
) -> None:
    """监测预警: 机构/科室/医师指标, 偏离预警, 异常模型, 效果评估 (monitoring and warnings)."""
    from rich.table import Table

    from huiyan.engine import Store
    from huiyan.errors import InputError
    from huiyan.kb import config as kb_config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.steps import monitor as step

    with user_errors():
        if not db.is_file():
            raise InputError(f"{db}: 数据库文件不存在, 请先运行 huiyan run")
        with Store(db) as store:
            if not store.has("setl_list") or not store.count("setl_list"):
                raise InputError(f"{db}: 没有结算数据, 请先运行 huiyan run")
            decided = _decided(state) if state else None
            ctx = RunContext(engine=store, config=kb_config.load(config))
            result = step.run(ctx, decided=decided)
            for name, n in result.rows.items():
                console.print(f"{name}: {n:,} 行")
            for note in result.notes:
                console.print(f"[yellow]{note}[/]")
            w = store.table("warning")
            agg = w.group_by(["level", "severity"]).aggregate(
                n=w.count(), subjects=w.subject.nunique()
            )
            rows = [
                tuple(r.values())
                for r in store.to_arrow(agg.order_by(["level", "severity"])).to_pylist()
            ]
            table = Table(title="预警汇总")
            for col in ("层级", "等级", "预警数", "对象数"):
                table.add_column(col, overflow="fold")
            for r in rows:
                table.add_row(*[str(x) for x in r])
            console.print(table)
            if report is not None:
                from huiyan.report.monitor_workbook import write_workbook

                write_workbook(store, report)
                console.print(f"监测预警报告: {report}")


def _decided(state: str):  # noqa: ANN202 (pyarrow imported lazily)
    """The review workflow's final deductions, when the review package is installed."""
    from huiyan.errors import InputError

    try:
        from huiyan.review.settle import decided_table
    except ImportError:
        raise InputError("未安装复核工作流 (huiyan.review), 无法读取 --state") from None
    return decided_table(state)
