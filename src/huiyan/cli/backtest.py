"""``huiyan backtest``: run one rule over a past period's store and compare with decisions made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, user_errors
from huiyan.cli.serve import StateOption


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)


def backtest(
    rule_id: Annotated[str, typer.Argument(help="规则编号")],
    db: Annotated[Path, typer.Option("--db", help="往期分析库文件 (a past period's store)")],
    state: StateOption = "huiyan-state.sqlite",
    config: Annotated[
        Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml")
    ] = None,
) -> None:
    """规则回测: 新规则/修改后规则在往期数据上的命中与已有复核结论对比."""
    from huiyan.audit.api import audit_store
    from huiyan.engine import Store
    from huiyan.kb import config as kb_config
    from huiyan.review.backtest import compare
    from huiyan.review.db import make_engine, session_factory

    with user_errors():
        if not db.is_file():
            from huiyan.errors import InputError

            raise InputError(f"{db}: 数据库文件不存在")
        with Store(db, read_only=True) as store:
            result = audit_store(store, kb_config.load(config), only=[rule_id])
        findings = result.findings.select(["setl_id", "vola_amt"]).to_pylist()
        engine = make_engine(state)
        with session_factory(engine)() as s:
            report = compare(s, rule_id, findings)
        engine.dispose()
    rate = report["precision_on_reviewed"]
    console.print(
        f"规则 {rule_id}: 命中 {report['hits']:,} 条; 已确认病例上 {report['on_confirmed_cases']:,}, "
        f"已驳回病例上 {report['on_dismissed_cases']:,}, 未复核 {report['unreviewed']:,}; "
        f"复核一致率 {'—' if rate is None else f'{rate:.1%}'}; "
        f"原规则已确认病例 {report['previously_confirmed_cases']:,} 例, 未再命中 {report['previously_confirmed_missed']:,} 例"
    )
    console.print_json(json.dumps(report, ensure_ascii=False))
