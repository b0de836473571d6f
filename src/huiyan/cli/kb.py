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
def info(
    scheme: Annotated[
        str | None, typer.Argument(help="分组方案名称: 显示该方案的详细信息 (省略则列出全部)")
    ] = None,
) -> None:
    """列出知识库数据集、DRG 分组方案与表行数; 给出方案名时显示该方案详情."""
    from huiyan.kb import tables
    from huiyan.kb.manifest import datasets

    if scheme is not None:
        with user_errors():
            _scheme_info(scheme)
        return
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
        _schemes_table()
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
        _verify_schemes()


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


def _scheme_logic(name: str) -> dict:
    """A scheme's decision procedure, from the compiled-scheme cache when it is there."""
    from huiyan.grouping.compiled import compile_scheme

    return compile_scheme(name).scheme.logic


def _schemes_table() -> None:
    from huiyan.kb import schemes
    from huiyan.kb.scheme_info import counts

    t = RichTable(title="DRG 分组方案 grouping schemes")
    for col in ("方案", "地区", "年份", "生效日期", "MDC", "ADRG", "DRG", "存储方式"):
        t.add_column(col, overflow="fold")
    for name in schemes.scheme_names():
        m = schemes.manifest(name)
        c = counts(_scheme_logic(name))
        parent = m.get("inherits")
        t.add_row(
            name,
            str(m.get("region", "")),
            str(m.get("year", "")),
            str(m.get("effective_from") or ""),
            str(c.mdcs),
            str(c.adrgs),
            f"{c.drgs:,}",
            f"差异, 继承 {parent}" if parent else "完整",
        )
    console.print(t)


def _scheme_info(name: str) -> None:
    from huiyan.kb import schemes
    from huiyan.kb.manifest import data_root
    from huiyan.kb.scheme_info import counts

    m = schemes.manifest(name)
    c = counts(_scheme_logic(name))
    folder = data_root().joinpath("drg", name)
    t = RichTable(title=f"分组方案 {name}", show_header=False)
    t.add_column("项目")
    t.add_column("内容", overflow="fold")
    source = m.get("source") or {}
    rows = [
        ("名称", str(m.get("title", ""))),
        ("地区", f"{m.get('region', '')} ({m.get('region_en', '')})"),
        ("年份 / 版本", f"{m.get('year', '')} / {m.get('version', '')}"),
        ("生效日期", f"{m.get('effective_from') or ''} 至 {m.get('effective_to') or '今'}"),
        ("MDC / ADRG / DRG", f"{c.mdcs} / {c.adrgs} / {c.drgs:,}"),
        ("继承", " → ".join(schemes.chain(name))),
        ("来源", ", ".join(f"{k}: {v}" for k, v in source.items()) if source else ""),
    ]
    for f, digest in (m.get("files") or {}).items():
        size = len(folder.joinpath(f).read_bytes()) if folder.joinpath(f).is_file() else 0
        rows.append((f"文件 {f}", f"{size / 1024:,.0f} KiB  sha256 {digest[:12]}…"))
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)


@kb_app.command("diff")
def diff(
    scheme: Annotated[str, typer.Option("--scheme", help="原分组方案, 如 chs-drg-1.1")],
    to: Annotated[str, typer.Option("--to", help="对比的分组方案, 如 liaocheng-2022")],
    limit: Annotated[int, typer.Option("--limit", help="每类最多显示的条目数")] = 30,
) -> None:
    """两个分组方案的差异: 参数、ADRG/DRG 增删、规则变化、编码表增删行."""
    from huiyan.grouping.compiled import compile_scheme
    from huiyan.grouping.conditions import describe
    from huiyan.kb.scheme_info import diff as scheme_diff

    with user_errors():
        d = scheme_diff(compile_scheme(scheme).scheme, compile_scheme(to).scheme, describe)
        console.print(f"[bold]{scheme} → {to}[/]")
        if d.empty:
            console.print("两个方案相同。")
            return
        for key, (a, b) in d.settings.items():
            console.print(f"参数 {key}: {a} → {b}")
        if d.mdc_order:
            console.print(f"MDC 顺序: {' '.join(d.mdc_order[0])} → {' '.join(d.mdc_order[1])}")
        _codes_line("ADRG 新增", d.adrgs_added, limit)
        _codes_line("ADRG 删除", d.adrgs_removed, limit)
        for title, items in (("DRG 新增", d.drgs_added), ("DRG 删除", d.drgs_removed)):
            _codes_line(title, [f"{c} {n}".strip() for c, n in items], limit)
        _codes_line("DRG 改名", [f"{c}: {a} → {b}" for c, a, b in d.drgs_renamed], limit)
        if d.steps:
            t = RichTable(title=f"规则变化 {len(d.steps)} 条")
            for col in ("MDC", "规则", "变化", "规则内容"):
                t.add_column(col, overflow="fold")
            labels = {"added": "新增", "removed": "删除", "changed": "修改"}
            for mdc, key, kind, text in d.steps[:limit]:
                t.add_row(mdc, key, labels[kind], text)
            console.print(t)
            if len(d.steps) > limit:
                console.print(f"… 另有 {len(d.steps) - limit} 条 (--limit)")
        for kind, label in (("new", "新增"), ("removed", "删除"), ("changed", "修改")):
            _codes_line(f"编码列表{label}", d.lists.get(kind, []), limit)
        if d.tables:
            t = RichTable(title="编码表增删行")
            for col in ("文件", "新增行", "删除行"):
                t.add_column(col)
            for f, (plus, minus) in d.tables.items():
                t.add_row(f, f"{plus:,}", f"{minus:,}")
            console.print(t)


def _codes_line(title: str, items: list[str], limit: int) -> None:
    if not items:
        return
    more = f" … 共 {len(items)} 项" if len(items) > limit else ""
    console.print(f"{title} ({len(items)}): " + "、".join(items[:limit]) + more)


def _verify_schemes() -> None:
    """Apply every scheme's deltas and compare with the digests of the verified tables."""
    from huiyan.kb import schemes

    bad = {name: schemes.verify_resolved(name) for name in schemes.scheme_names()}
    bad = {k: v for k, v in bad.items() if v}
    for name, files in bad.items():
        console.print(f"[red]✗[/] 分组方案 {name}: 应用差异后与核验数据不一致 {', '.join(files)}")
    if bad:
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/] {len(schemes.scheme_names())} 个分组方案应用差异后与核验过的完整数据一致"
    )
