"""``huiyan price`` (standards, DIP catalog, DRG/DIP payment; ``freeze``, ``load``, ``diff``)
and ``huiyan settle``."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, medins_names, user_errors
from huiyan.cli.console import table as rich_table
from huiyan.cli.errors import existing_store, fail, input_file, output_file
from huiyan.engine import DEFAULT_STORE

DbOption = Annotated[Path, typer.Option("--db", help="分析库文件 (the analytic store file)")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml (region configuration)")
]
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
CsvOption = Annotated[Path | None, typer.Option(help="CSV: setl_id[,amount]")]


price_app = typer.Typer(
    invoke_without_command=True,
    help="测算与模拟支付; 子命令 freeze/load/diff 管理按生效日期冻结的支付标准",
)


def register(app: typer.Typer) -> None:
    """Register ``price`` (with its subcommands) and ``settle``."""
    price_app.callback()(price)
    app.add_typer(price_app, name="price")
    app.command("settle")(settle)


def price(
    ctx: typer.Context,
    db: DbOption = Path(DEFAULT_STORE),
    config: ConfigOption = None,
    report: Annotated[
        Path | None, typer.Option(help="模拟支付Excel报告 (simulated-payment workbook .xlsx)")
    ] = None,
    calibration_report: Annotated[
        Path | None, typer.Option(help="测算报告Excel (calibration workbook .xlsx)")
    ] = None,
) -> None:
    """测算与模拟支付: DRG权重/费率, DIP目录/分值/点值, 逐例支付 (payment standards and payment)."""
    if ctx.invoked_subcommand is not None:
        return
    from huiyan.kb import config as kb_config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.steps import price as step

    with user_errors():
        if report is not None:
            output_file(report, (".xlsx",))
        cfg = kb_config.load(config)
        store = existing_store(db, need=("setl_list",))
    with user_errors(), store:
        result = step.run(RunContext(engine=store, config=cfg))
        for name, n in result.rows.items():
            console.print(f"{name}: {n:,} 行")
        for note in result.notes:
            console.print(f"[yellow]{note}[/]")
        if report is not None:
            from huiyan.report.payment_workbook import write_workbook

            write_workbook(store, report)
            console.print(f"模拟支付报告: {report}")
        if calibration_report is not None:
            from huiyan.report.calibration_workbook import write_calibration_workbook

            write_calibration_workbook(store, calibration_report)
            console.print(f"测算报告: {calibration_report}")


def _date(value: str | None, option: str) -> date | None:
    from huiyan.errors import InputError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option}: {value!r} 不是日期 (YYYY-MM-DD)") from None


@price_app.command("freeze")
def freeze(
    version: Annotated[str, typer.Argument(help="版本名, 如 2026")],
    effective_from: Annotated[str, typer.Option(help="生效日期 YYYY-MM-DD")],
    effective_to: Annotated[str | None, typer.Option(help="失效日期 YYYY-MM-DD (不含)")] = None,
    db: DbOption = Path(DEFAULT_STORE),
) -> None:
    """冻结当前测算的支付标准为一个版本 (freeze the derived standards with effective dates)."""
    from huiyan.pricing.frozen import freeze as do_freeze

    with user_errors(), existing_store(db) as store:
        start = _date(effective_from, "--effective-from")
        assert start is not None
        n = do_freeze(store, version, start, _date(effective_to, "--effective-to"))
    console.print(f"已冻结版本 {version}: {n:,} 项标准, 自 {effective_from} 起生效")


@price_app.command("load")
def load(
    path: Annotated[Path, typer.Argument(help="发布的支付标准 CSV (price_freeze 列)")],
    db: DbOption = Path(DEFAULT_STORE),
) -> None:
    """载入医保局发布的权重/费率/分值/点值/系数 (load published standards)."""
    from huiyan.pricing.frozen import load_published

    with user_errors(), existing_store(db) as store:
        n = load_published(store, path)
    console.print(f"已载入发布标准 {n:,} 项: {path}")


@price_app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="旧版本")],
    new: Annotated[str, typer.Argument(help="新版本")],
    db: DbOption = Path(DEFAULT_STORE),
    limit: Annotated[int, typer.Option(help="最多显示行数 (按变化幅度)")] = 40,
) -> None:
    """比较两个版本的支付标准 (compare two frozen versions)."""
    from rich.table import Table

    from huiyan.pricing.frozen import diff as do_diff

    with user_errors(), existing_store(db) as store:
        rows = do_diff(store, old, new)
    changed = [r for r in rows if r["old"] != r["new"]]
    changed.sort(key=lambda r: (r["change"] is not None, abs(r["change"] or 0)), reverse=True)
    table = Table(title=f"支付标准对比 {old} → {new}: {len(changed):,} / {len(rows):,} 项变化")
    for col in ("方式", "类别", "组/级别", old, new, "变化"):
        table.add_column(col, justify="right", overflow="fold")
    for r in changed[:limit]:
        table.add_row(
            r["method"],
            r["kind"],
            r["key"],
            "" if r["old"] is None else f"{r['old']:f}",
            "" if r["new"] is None else f"{r['new']:f}",
            "新增" if r["old"] is None else "取消" if r["new"] is None else f"{r['change']:+.2%}",
        )
    console.print(table)


def settle(
    period: Annotated[str, typer.Option(help="结算期间 YYYY-MM (e.g. 2025-12)")],
    db: DbOption = Path(DEFAULT_STORE),
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
    decided = None
    if state:
        # The review workflow database needs the service extra (SQLAlchemy): imported only
        # when asked for, so a plain install settles without it.
        from huiyan.review.settle import decided_table

        decided = decided_table(state)
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
            decided=decided,
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
