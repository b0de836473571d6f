"""``huiyan export TABLE --db FILE --out FILE``: write a stored table as CSV, Parquet or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, user_errors
from huiyan.cli.errors import existing_store, output_file

FORMATS = (".csv", ".parquet", ".xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, minus the header row


def register(app: typer.Typer) -> None:
    """Register ``export``."""
    app.command("export")(export)


def export(
    name: Annotated[str, typer.Argument(help="表名 (table name), e.g. quarantine")],
    db: Annotated[Path, typer.Option("--db", help="DuckDB 数据库文件")] = Path("huiyan.duckdb"),
    out: Annotated[Path, typer.Option("--out", help="输出文件 .csv/.parquet/.xlsx")] = Path(
        "out.csv"
    ),
    labels: Annotated[
        bool, typer.Option("--labels", help="使用中文列名 (Chinese column labels)")
    ] = False,
) -> None:
    """导出数据库中的一张表为 CSV、Parquet 或 Excel (by the extension of --out)."""
    from huiyan.errors import InputError

    with user_errors():
        output_file(out, FORMATS)
        with existing_store(db, read_only=True) as store:
            if not store.has(name):
                raise InputError(
                    f"{db}: 没有表 {name!r} (no such table); 已有 tables: {', '.join(store.tables())}"
                )
            rows = write_table(store, name, out, labels=labels)
    console.print(f"已导出 exported {name}: {rows:,} 行 → {out}")


def _labels(name: str, columns: list[str]) -> list[str]:
    from huiyan.model import TABLES

    t = TABLES.get(name)
    return [t[c].label if t is not None and c in t else c for c in columns]


def write_table(store: object, name: str, out: Path, *, labels: bool = False) -> int:
    """Write table ``name`` of ``store`` to ``out``; returns the number of rows written."""
    from huiyan.engine import Store
    from huiyan.errors import InputError

    assert isinstance(store, Store)
    rel = store.con.sql(f'SELECT * FROM "{name}"')
    columns = rel.columns
    heads = _labels(name, columns) if labels else columns
    select = ", ".join(f'"{c}" AS "{h}"' for c, h in zip(columns, heads, strict=True))
    rel = store.con.sql(f'SELECT {select} FROM "{name}"')
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        # UTF-8 with BOM so that Excel on Chinese Windows opens it without mojibake.
        import shutil

        tmp = out.with_name(out.name + ".part")
        rel.write_csv(str(tmp), header=True)
        with out.open("wb") as dst, tmp.open("rb") as src:
            dst.write(b"\xef\xbb\xbf")
            shutil.copyfileobj(src, dst, 8 * 1024 * 1024)
        tmp.unlink()
    elif suffix == ".parquet":
        rel.write_parquet(str(out))
    else:
        table = rel.to_arrow_table()
        if table.num_rows > XLSX_MAX_ROWS:
            raise InputError(
                f"{name}: {table.num_rows:,} 行超过 Excel 上限 exceeds the Excel row limit; "
                "请导出为 .csv 或 .parquet"
            )
        _write_xlsx(table, out, name)
    return int(store.con.sql(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])


def _write_xlsx(table: object, out: Path, sheet: str) -> None:
    from decimal import Decimal

    import xlsxwriter

    with xlsxwriter.Workbook(str(out), {"remove_timezone": True}) as wb:
        ws = wb.add_worksheet(sheet[:31])
        bold = wb.add_format({"bold": True})
        datefmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        ws.write_row(0, 0, table.column_names, bold)  # type: ignore[attr-defined]
        for j, col in enumerate(table.columns):  # type: ignore[attr-defined]
            values = col.to_pylist()
            for i, v in enumerate(values, start=1):
                if v is None:
                    continue
                if hasattr(v, "isoformat") and hasattr(v, "hour"):
                    ws.write_datetime(i, j, v, datefmt)
                elif isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
                    ws.write_number(i, j, float(v))
                else:
                    ws.write(i, j, str(v) if not isinstance(v, bool) else v)
        ws.freeze_panes(1, 0)
