"""``huiyan kb``: inspect, look up, verify and export the knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from huiyan.cli.console import console, is_code, table, text, user_errors
from huiyan.cli.errors import fail, output_file

kb_app = typer.Typer(help="知识库 knowledge base: 版本、查询、校验、导出。", no_args_is_help=True)

_ROW_LABELS = {
    "item_restriction": "药品/项目限定",
    "dup_charge_pair": "重复收费项目对",
    "surgery_discount": "手术折价组",
}


def register(app: typer.Typer) -> None:
    """Add the ``kb`` command group to the main app."""
    app.add_typer(kb_app, name="kb")


@kb_app.command("info")
def info() -> None:
    """列出知识库数据集、版本与表行数 (data sets, versions, row counts)."""
    from huiyan.kb import tables
    from huiyan.kb.manifest import datasets

    with user_errors():
        sets = RichTable(title="知识库数据集 data sets")
        for col in ("目录", "名称", "版本", "生效日期", "来源/许可", "文件数"):
            sets.add_column(col, overflow="fold")
        for ds in datasets():
            sets.add_row(
                ds.folder,
                ds.name,
                ds.version,
                ds.effective_from or "",
                ds.license,
                str(len(ds.files)),
            )
        console.print(sets)
        rows = RichTable(title="知识库表 tables")
        for col in ("表", "名称", "行数"):
            rows.add_column(col, overflow="fold")
        for name in tables.names():
            rows.add_row(name, tables.label(name), f"{tables.load(name).num_rows:,}")
        console.print(rows)


@kb_app.command("lookup")
def lookup(code: Annotated[str, typer.Argument(help="诊断/手术/药品/医疗服务项目编码")]) -> None:
    """查询一个编码: 名称、所属目录、限定与知识条目 (what the knowledge base says about CODE)."""
    from huiyan.kb import tables
    from huiyan.kb.lookup import lookup as find

    with user_errors():
        report = find(code)
        if not report.name and not report.lists and not report.rows:
            fail(f"编码 {code!r} 不在知识库中 unknown code (诊断、手术、药品、项目、耗材目录均无)")
        console.print(f"[bold]{report.code}[/]  {report.kind}  {report.name}")
        console.print("所属目录/列表: " + ("、".join(report.lists) if report.lists else "无"))
        if not report.rows:
            console.print("无限定或知识条目。")
        for name, rows in report.rows.items():
            columns = [c for c in rows[0] if any(r[c] not in (None, "") for r in rows)]
            heads = [tables.column_label(name, c) for c in columns]
            t = table(
                f"{tables.label(name)} ({name}) {len(rows)}条",
                heads,
                codes=tuple(h for c, h in zip(columns, heads, strict=True) if is_code(c)),
            )
            enum = {c: _enum(name, c) for c in columns}
            for r in rows[:50]:
                t.add_row(*(text(r[c], enum=enum[c]) for c in columns))
            console.print(t)
            if len(rows) > 50:
                console.print(f"… 另有 {len(rows) - 50} 条")


@kb_app.command("verify")
def verify() -> None:
    """校验知识库数据文件的 sha256 (check every data file against its manifest)."""
    from huiyan.kb.manifest import datasets
    from huiyan.kb.manifest import verify as check

    with user_errors():
        problems = check()
        for p in problems:
            console.print(f"[red]✗[/] {p}")
        if problems:
            raise typer.Exit(1)
        n = sum(len(d.files) for d in datasets())
        console.print(f"[green]✓[/] {len(datasets())} 个数据集, {n} 个文件校验通过")


@kb_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="表名, 如 item_restriction、dx_evidence、hilist")],
    out: Annotated[Path, typer.Option("--out", help="输出文件: .csv / .parquet / .xlsx")],
) -> None:
    """导出一个知识库表 (export a kb table as CSV, Parquet or XLSX by extension)."""
    from huiyan.kb import tables

    with user_errors():
        output_file(out, (".csv", ".parquet", ".xlsx"))
        data = tables.load(name)
        _write(data, name, out)
        console.print(f"已导出 {name}: {data.num_rows:,} 行 → {out}")


def _write(data: object, name: str, out: Path) -> None:
    """CSV (BOM) and xlsx (Chinese headers and labels) through the report writers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from huiyan.report.tabular import Sheet, labelled, write_csv, write_xlsx

    assert isinstance(data, pa.Table)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        pq.write_table(data, out)
    elif suffix == ".csv":
        write_csv(out, data)
    else:
        shown, headers = labelled(data, name)
        write_xlsx(out, [Sheet(name, shown, headers=headers)])


def _enum(name: str, column: str) -> str | None:
    from huiyan.model import TABLES

    t = TABLES.get(name)
    return t[column].enum if t is not None and column in t else None
