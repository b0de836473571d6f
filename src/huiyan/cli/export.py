"""``huiyan export TABLE --db FILE --out FILE``: write a stored table as CSV, Parquet or XLSX.

Desensitised by default (``report.safe``: names, ID numbers, phones, addresses masked,
``psn_no`` pseudonymised); ``--no-mask`` writes them as stored. xlsx gets Chinese headers and
labels for coded values by default (``--codes`` keeps the codes); CSV and Parquet keep codes
unless ``--labels``. Formula-like text is neutralised in CSV and xlsx.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, user_errors
from huiyan.cli.errors import existing_store, output_file
from huiyan.engine import DEFAULT_STORE

FORMATS = (".csv", ".parquet", ".xlsx")


def register(app: typer.Typer) -> None:
    """Register ``export``."""
    app.command("export")(export)


def export(
    name: Annotated[str, typer.Argument(help="表名 (table name), e.g. quarantine")],
    db: Annotated[Path, typer.Option("--db", help="分析库文件")] = Path(DEFAULT_STORE),
    out: Annotated[Path, typer.Option("--out", help="输出文件 .csv/.parquet/.xlsx")] = Path(
        "out.csv"
    ),
    labels: Annotated[
        bool | None,
        typer.Option(
            "--labels/--codes",
            help="中文列名与代码名称 (Chinese headers and labels; default: on for .xlsx)",
        ),
    ] = None,
    no_mask: Annotated[
        bool,
        typer.Option(
            "--no-mask", help="不脱敏: 输出姓名、证件号、电话等原值 (personal data as stored)"
        ),
    ] = False,
) -> None:
    """导出数据库中的一张表为 CSV、Parquet 或 Excel (by the extension of --out), 默认脱敏."""
    from huiyan.errors import InputError

    with user_errors():
        output_file(out, FORMATS)
        with existing_store(db) as store:
            if not store.has(name):
                raise InputError(
                    f"{db}: 没有表 {name!r} (no such table); 已有 tables: {', '.join(store.tables())}"
                )
            use_labels = out.suffix.lower() == ".xlsx" if labels is None else labels
            rows = write_table(store, name, out, labels=use_labels, mask=not no_mask)
    note = "" if no_mask else " (已脱敏 personal data masked)"
    console.print(f"已导出 exported {name}: {rows:,} 行 → {out}{note}")


def write_table(
    store: object, name: str, out: Path, *, labels: bool = False, mask: bool = True
) -> int:
    """Write table ``name`` of ``store`` to ``out``; returns the number of rows written."""
    from huiyan.engine import Store
    from huiyan.errors import InputError
    from huiyan.model import TABLES, enums
    from huiyan.report.safe import KEY_TABLE, mask_sql, neutralise_sql, personal_columns, store_key
    from huiyan.report.tabular import BOM, XLSX_MAX_ROWS, Sheet, write_xlsx

    assert isinstance(store, Store)
    if name == KEY_TABLE:
        raise InputError(f"{name}: 脱敏密钥不可导出 the pseudonymisation secret is not exported")
    rel = store.con.sql(f'SELECT * FROM "{name}"')
    columns, types = rel.columns, [str(t) for t in rel.types]
    personal = personal_columns(columns, name) if mask else {}
    key = store_key(store) if personal else ""
    model = TABLES.get(name)
    suffix = out.suffix.lower()
    select = []
    for column, sqltype in zip(columns, types, strict=True):
        expr = f'"{column}"'
        fld = model[column] if model is not None and column in model else None
        if column in personal:
            expr = mask_sql(personal[column], column, key)
        elif labels and fld is not None and fld.enum and sqltype == "VARCHAR":
            cases = " ".join(
                f"when '{_q(code)}' then '{_q(text)}'" for code, text in enums()[fld.enum].items()
            )
            expr = f"case {expr} {cases} else {expr} end"
        if suffix == ".csv" and (sqltype == "VARCHAR" or column in personal):
            expr = neutralise_sql(expr)
        head = fld.label if labels and fld is not None else column
        select.append(f'{expr} AS "{_q(head, chr(34))}"')
    rel = store.con.sql(f'SELECT {", ".join(select)} FROM "{name}"')
    if suffix == ".csv":
        tmp = out.with_name(out.name + ".part")
        rel.write_csv(str(tmp), header=True)
        _prepend(tmp, out, BOM)
    elif suffix == ".parquet":
        rel.write_parquet(str(out))
    else:
        n = store.count(name)
        if n > XLSX_MAX_ROWS:
            raise InputError(
                f"{name}: {n:,} 行超过 Excel 上限 exceeds the Excel row limit; "
                "请导出为 .csv 或 .parquet"
            )
        sheet = model.label if labels and model is not None else name
        write_xlsx(out, [Sheet(sheet, rel.to_arrow_table())])
    return store.count(name)


def _q(text: str, quote: str = "'") -> str:
    return text.replace(quote, quote * 2)


def _prepend(src: Path, dst: Path, head: bytes) -> None:
    import shutil

    with dst.open("wb") as out, src.open("rb") as body:
        out.write(head)
        shutil.copyfileobj(body, out, 8 * 1024 * 1024)
    src.unlink()
