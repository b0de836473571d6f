"""``huiyan price`` (standards, DIP catalog, DRG/DIP payment) and ``huiyan settle``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, user_errors

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB 数据库文件 (database file)")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml (region configuration)")
]
CsvOption = Annotated[Path | None, typer.Option(help="CSV: setl_id[,amount]")]


def register(app: typer.Typer) -> None:
    """Register ``price`` and ``settle``."""
    app.command("price")(price)
    app.command("settle")(settle)


def price(
    db: DbOption = Path("huiyan.duckdb"),
    config: ConfigOption = None,
    report: Annotated[
        Path | None, typer.Option(help="模拟支付Excel报告 (simulated-payment workbook .xlsx)")
    ] = None,
) -> None:
    """测算与模拟支付: DRG权重/费率, DIP目录/分值/点值, 逐例支付 (payment standards and payment)."""
    from huiyan.engine import Store
    from huiyan.kb import config as kb_config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.steps import price as step

    with user_errors(), Store(db) as store:
        result = step.run(RunContext(store=store, config=kb_config.load(config)))
        for name, n in result.rows.items():
            console.print(f"{name}: {n:,} 行")
        for note in result.notes:
            console.print(f"[yellow]{note}[/]")
        if report is not None:
            from huiyan.report.payment_workbook import write_workbook

            write_workbook(store, report)
            console.print(f"模拟支付报告: {report}")


def settle(
    period: Annotated[str, typer.Option(help="结算期间 YYYY-MM (e.g. 2025-12)")],
    db: DbOption = Path("huiyan.duckdb"),
    config: ConfigOption = None,
    year_end: Annotated[
        bool, typer.Option("--year-end", help="年终清算 (year-end clearing)")
    ] = False,
    special_review: Annotated[Path | None, typer.Option(help="特病单议申请 CSV (setl_id)")] = None,
    new_tech: Annotated[
        Path | None, typer.Option(help="新技术除外支付 CSV (setl_id,amount)")
    ] = None,
    deductions: Annotated[Path | None, typer.Option(help="已确认扣减 CSV (setl_id,amount)")] = None,
    state: Annotated[
        str | None, typer.Option(help="复核工作库: 只扣减终审确认的金额 (review workflow database)")
    ] = None,
) -> None:
    """月预结算 / 年终清算, 基金池对账到分 (monthly pre-settlement or year-end clearing)."""
    from rich.table import Table

    from huiyan.engine import Store
    from huiyan.kb import config as kb_config
    from huiyan.review.settle import decided_table
    from huiyan.settlement.ledger import yuan
    from huiyan.settlement.run import settle as run_settle

    with user_errors(), Store(db) as store:
        ledger = run_settle(
            store,
            kb_config.load(config),
            period=period,
            year_end_clearing=year_end,
            special_review=special_review,
            new_tech=new_tech,
            deductions=deductions,
            decided=decided_table(state) if state else None,
        )
    table = Table(title=("年终清算" if year_end else "月预结算") + f" {period}")
    for col in ("机构", "病例", "基金应付", "扣减", "再分配", "本次拨付", "暂扣"):
        table.add_column(col, justify="right", overflow="fold")
    for h in ledger.hospitals:
        table.add_row(
            h["medins_code"],
            f"{h['cases']:,}",
            f"{yuan(h['fund_due']):,}",
            f"{yuan(h.get('deduction', 0)):,}",
            f"{yuan(h.get('redistributed', 0)):,}",
            f"{yuan(h['paid']):,}",
            f"{yuan(h.get('withheld', 0)):,}",
        )
    console.print(table)
    p = ledger.pool
    console.print(
        f"基金池 {yuan(p['pool_in']):,} = 拨付 {yuan(p['paid_out']):,} + 暂扣/结余 "
        f"{yuan(p['withheld']):,} + 再分配 {yuan(p['redistributed']):,}"
    )
    for note in ledger.notes:
        console.print(f"[yellow]{note}[/]")
