"""CLI ``huiyan qc``: run settlement-list QC on a store, write workbooks, or explain one case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, medins_names, progress, table, text, user_errors
from huiyan.cli.errors import existing_store, fail, output_dir
from huiyan.engine import DEFAULT_STORE


def register(app: typer.Typer) -> None:
    """Register this area's commands on ``app``."""

    @app.command("qc")
    def qc(
        db: Annotated[Path, typer.Option("--db", help="分析库文件")] = Path(DEFAULT_STORE),
        out: Annotated[
            Path | None, typer.Option("--out", help="按机构输出质控 Excel 工作簿的目录")
        ] = None,
        explain: Annotated[
            str | None, typer.Option("--explain", help="逐条显示某结算ID的质控结论")
        ] = None,
        config_file: Annotated[
            Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml")
        ] = None,
    ) -> None:
        """结算清单质控：全部质控规则、四项指标（上传率/完整率/入组率/质控通过率）与机构工作簿。"""
        from rich.table import Table

        from huiyan.kb import config
        from huiyan.quality.service import explain as explain_case
        from huiyan.quality.service import run_qc
        from huiyan.quality.spec import checks

        with user_errors():
            if out is not None:
                output_dir(out)
            cfg = config.load(config_file)
            with existing_store(db, need=("setl_list",)) as store:
                if explain is not None:
                    setl = store.table("setl_list")
                    known = store.to_arrow(setl.filter(setl.setl_id == explain).limit(1)).num_rows
                    if not known:
                        fail(f"结算ID {explain!r} 不在 {db} 的结算清单中 (setl_id not found)")
                    verdicts = explain_case(store, cfg, explain)
                    t = Table(title=f"结算ID {explain} 质控结论")
                    for col in ("规则编号", "规则名称", "严重程度", "结论", "问题描述"):
                        t.add_column(col, overflow="fold")
                    for spec, rows in verdicts:
                        verdict = "[red]不通过[/]" if rows else "[green]通过[/]"
                        msg = "；".join(r["message"] for r in rows)
                        sev = "错误" if spec.severity == "error" else "提示"
                        t.add_row(spec.id, spec.name, sev, verdict, msg)
                    console.print(t)
                    return
                with progress() as bar:
                    task = bar.add_task("质控规则", total=len(checks()))
                    result = run_qc(store, cfg, on_check=lambda s, n: bar.advance(task))
                names = medins_names(store)
                summary = table(
                    "结算清单质控指标",
                    ["机构", "机构名称", "期间", "指标", "分子", "分母", "比率"],
                    numeric=("分子", "分母", "比率"),
                    codes=("机构", "期间"),
                )
                for r in result.indicators.to_pylist():
                    rate = "-" if r["rate"] is None else f"{r['rate']:.2%}"
                    summary.add_row(
                        r["medins_code"],
                        names.get(r["medins_code"], ""),
                        r["period"],
                        text(r["indicator"], enum="qc_indicator"),
                        text(r["numerator"]),
                        text(r["denominator"]),
                        rate,
                    )
                console.print(summary)
                console.print(f"质控问题 {result.issues.num_rows:,} 条")
                if out is not None:
                    from huiyan.report.qc_workbook import write_all

                    paths = write_all(out, result.issues, result.indicators, names)
                    console.print(f"已写出 {len(paths)} 个机构工作簿到 {out}")
