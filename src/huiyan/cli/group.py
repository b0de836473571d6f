"""CLI ``huiyan group``: group a case CSV by a DRG scheme, and compare two schemes on a database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from huiyan.cli.console import console, progress, user_errors
from huiyan.cli.errors import existing_store, input_file, output_file
from huiyan.engine import DEFAULT_STORE
from huiyan.model.domain import NATIONAL_SCHEME

if TYPE_CHECKING:
    import pyarrow as pa

CHUNK = 50_000  # cases per batch call: keeps the progress bar moving on large files
SCREEN_ROWS = 20  # without --out, results go to the screen: only for a few cases
SCREEN_TRACES = 5


def register(app: typer.Typer) -> None:
    """Register ``huiyan group`` (with its ``diff`` sub-command) on ``app``."""
    group_app = typer.Typer(
        help="DRG 分组 (CHS-DRG 1.1 及地方版): 病例文件分组、方案变更对比。",
        invoke_without_command=True,
        no_args_is_help=False,
    )

    @group_app.callback(invoke_without_command=True)
    def group(
        ctx: typer.Context,
        scheme: Annotated[str, typer.Option("--scheme", help="分组方案名称")] = NATIONAL_SCHEME,
        cases: Annotated[
            Path | None,
            typer.Option("--cases", help="病例 CSV: case_id,gender,age,...,procedures (见 README)"),
        ] = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="输出 CSV (省略时结果显示在屏幕上, 最多 20 例)")
        ] = None,
        mode: Annotated[
            str, typer.Option("--mode", help="raw: 原始编码; mapped: 先做编码转换")
        ] = "raw",
        explain: Annotated[
            bool,
            typer.Option(
                "--explain", help="中文分组路径: 写入 trace 列, 并在屏幕上显示 (最多 5 例)"
            ),
        ] = False,
        case_id: Annotated[
            str | None, typer.Option("--case", help="只分组这一例 (病例 case_id)")
        ] = None,
        checked: Annotated[
            bool, typer.Option("--checked", help="增加输入校验状态 (无效编码、性别不符等)")
        ] = False,
    ) -> None:
        """按 DRG 方案对病例文件分组, 输出 case_id, status, mdc, adrg, drg。"""
        if ctx.invoked_subcommand is not None:
            return
        import pyarrow as pa
        import pyarrow.compute as pc

        from huiyan.errors import InputError
        from huiyan.grouping import Case, group_case, group_table, read_cases_csv
        from huiyan.grouping.batch import MODES
        from huiyan.grouping.compiled import compile_scheme
        from huiyan.report.tabular import write_csv

        with user_errors():
            if cases is None:
                raise InputError("请用 --cases 指定病例文件 (--out 指定输出文件)")
            input_file(cases, "病例文件")
            if out is not None:
                output_file(out)
            if mode not in MODES:
                raise InputError(f"--mode 只能是 {' 或 '.join(MODES)}, 而不是 {mode!r}")
            sch = compile_scheme(scheme).scheme  # from the disk cache after the first use
            if mode == "mapped" and not sch.mapped_mode_supported:
                console.print(f"[yellow]注意: 参考分组器不支持 {scheme} 的编码转换模式[/]")
            table = read_cases_csv(cases)
            if case_id is not None:
                table = table.filter(pc.equal(table.column("case_id"), case_id))
                if table.num_rows == 0:
                    raise InputError(f"{cases}: 没有病例 {case_id!r}")
            if out is None and table.num_rows > SCREEN_ROWS:
                raise InputError(
                    f"{cases} 有 {table.num_rows:,} 例: 请用 --out 指定输出文件, 或用 --case 选一例"
                )
            parts = []
            with progress() as bar:
                task = bar.add_task(f"{scheme} 分组", total=table.num_rows)
                for start in range(0, table.num_rows, CHUNK):
                    chunk = table.slice(start, CHUNK)
                    res = group_table(chunk, scheme, mode=mode, checked=checked)
                    res = res.select(["case_id", "status", "mdc", "adrg", "drg", "drg_name"])
                    if explain:
                        traces = [
                            " | ".join(
                                group_case(
                                    Case.from_row(r), scheme, mode=mode, checked=checked
                                ).trace
                            )
                            for r in chunk.to_pylist()
                        ]
                        res = res.append_column("trace", pa.array(traces, pa.string()))
                    parts.append(res)
                    bar.advance(task, chunk.num_rows)
            result = pa.concat_tables(parts) if parts else None
            if result is None:
                raise InputError(f"{cases}: 没有病例")
            if out is not None:
                write_csv(out, result)
                _summary(result)
            else:
                _show(result)
            if explain:
                for row in result.slice(0, SCREEN_TRACES).to_pylist():
                    console.print(f"[bold]{row['case_id']}[/]")
                    for line in row["trace"].split(" | "):
                        console.print(f"  {line}")

    @group_app.command("diff")
    def diff(
        from_scheme: Annotated[str, typer.Option("--from", help="原分组方案")],
        to_scheme: Annotated[str, typer.Option("--to", help="新分组方案")],
        db: Annotated[Path, typer.Option("--db", help="分析库文件")] = Path(DEFAULT_STORE),
        out: Annotated[Path | None, typer.Option("--out", help="逐例变化输出 CSV")] = None,
        mode: Annotated[str, typer.Option("--mode", help="raw 或 mapped")] = "raw",
        limit: Annotated[int, typer.Option("--limit", help="屏幕上显示的病例数")] = 20,
    ) -> None:
        """方案变更对比: 列出两个方案下分组不同的病例及原因。"""
        from rich.table import Table

        from huiyan.grouping import diff_schemes
        from huiyan.grouping.store_cases import cases_from_store
        from huiyan.report.tabular import write_csv

        with user_errors():
            if out is not None:
                output_file(out)
            with existing_store(db, need=("setl_list",), read_only=True) as store:
                cases = cases_from_store(store)
            with console.status(f"对比 {from_scheme} → {to_scheme} ({cases.num_rows} 例)"):
                changes = diff_schemes(cases, from_scheme, to_scheme, mode=mode)
            if out is not None:
                write_csv(out, changes)
            t = Table(
                title=f"{from_scheme} → {to_scheme}: {changes.num_rows}/{cases.num_rows} 例分组变化"
            )
            for col in ("病例", "原分组", "新分组", "变化层级", "原因"):
                t.add_column(col, overflow="fold")
            for r in changes.slice(0, limit).to_pylist():
                t.add_row(
                    r["case_id"],
                    f"{r['from_status']} {r['from_drg']}",
                    f"{r['to_status']} {r['to_drg']}",
                    r["change"],
                    r["reason"],
                )
            console.print(t)

    app.add_typer(group_app, name="group")


def _show(result: object) -> None:
    from rich.table import Table

    from huiyan.model.enums import label

    t = Table(title="分组结果")
    for col in ("病例", "状态", "MDC", "ADRG", "DRG", "DRG名称"):
        t.add_column(col, overflow="fold")
    for r in result.to_pylist():  # type: ignore[attr-defined]
        status = f"{r['status']} {label('group_status', r['status'])}"
        t.add_row(r["case_id"], status, r["mdc"], r["adrg"], r["drg"], r["drg_name"])
    console.print(t)


def _summary(result: pa.Table) -> None:
    from collections import Counter

    from rich.table import Table

    from huiyan.model.enums import label

    counts: Counter[str] = Counter(result.column("status").to_pylist())
    t = Table(title="分组状态")
    t.add_column("状态", overflow="fold")
    t.add_column("说明", overflow="fold")
    t.add_column("病例数", justify="right", overflow="fold")
    for status, n in counts.most_common():
        t.add_row(status, label("group_status", status), str(n))
    console.print(t)
