"""``huiyan price`` (standards, DIP catalog, DRG/DIP payment) and ``huiyan settle``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, medins_names, user_errors
from huiyan.cli.console import table as rich_table
from huiyan.cli.errors import existing_store, fail, input_file, output_file

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB 数据库文件 (database file)")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml (region configuration)")
]
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
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
    from huiyan.kb import config as kb_config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.steps import price as step

    with user_errors():
        if report is not None:
            output_file(report, (".xlsx",))
        cfg = kb_config.load(config)
        store = existing_store(db, need=("setl_list",))
    with user_errors(), store:
        result = step.run(RunContext(store=store, config=cfg))
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
) -> None:
    """月预结算 / 年终清算, 基金池对账到分 (monthly pre-settlement or year-end clearing)."""

    from huiyan.kb import config as kb_config
    from huiyan.settlement.ledger import yuan
    from huiyan.settlement.run import settle as run_settle

    with user_errors():
        if not PERIOD.fullmatch(period):
            fail(f"--period 应为 YYYY-MM (如 2025-12), 而不是 {period!r}")
        for path, what in (
            (special_review, "特病单议申请文件"),
            (new_tech, "新技术除外支付文件"),
            (deductions, "已确认扣减文件"),
        ):
            if path is not None:
                input_file(path, what)
        cfg = kb_config.load(config)
        store = existing_store(db, need=("payment",))
    with user_errors(), store:
        names = medins_names(store)
        ledger = run_settle(
            store,
            cfg,
            period=period,
            year_end_clearing=year_end,
            special_review=special_review,
            new_tech=new_tech,
            deductions=deductions,
        )
    # Columns that are zero for every hospital (no deductions yet, no redistribution in a
    # monthly run) are left out: the figures that matter keep their room at 80 columns.
    optional = {"deduction": "扣减", "redistributed": "再分配", "withheld": "暂扣"}
    shown = [k for k in optional if any(h.get(k, 0) for h in ledger.hospitals)]
    money = ["基金应付", *(optional[k] for k in shown if k != "withheld"), "本次拨付"]
    money += [optional["withheld"]] if "withheld" in shown else []
    table = rich_table(
        ("年终清算" if year_end else "月预结算") + f" {period} (元)",
        ["机构", "病例", *money],
        numeric=("病例", *money),
    )
    for h in ledger.hospitals:
        code = h["medins_code"]
        values = {"基金应付": h["fund_due"], "本次拨付": h["paid"]}
        values |= {optional[k]: h.get(k, 0) for k in shown}
        table.add_row(
            f"{names.get(code, '')} {code}".strip(),
            f"{h['cases']:,}",
            *(f"{yuan(values[m]):,}" for m in money),
        )
    console.print(table)
    p = ledger.pool
    console.print(
        f"基金池 {yuan(p['pool_in']):,} = 拨付 {yuan(p['paid_out']):,} + 暂扣/结余 "
        f"{yuan(p['withheld']):,} + 再分配 {yuan(p['redistributed']):,}"
    )
    for note in ledger.notes:
        console.print(f"[yellow]{note}[/]")
