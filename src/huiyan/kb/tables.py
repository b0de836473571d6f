"""Every table of the knowledge base by name, for listing and export."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from huiyan.errors import InputError
from huiyan.kb import catalog, knowledge, restrictions
from huiyan.model.tables import table as model_table


def names() -> tuple[str, ...]:
    """Restriction tables, the default catalog, then the knowledge tables."""
    return (*restrictions.NAMES, "hilist", *knowledge.names())


def load(name: str) -> pa.Table:
    """The shipped table ``name``."""
    if name in restrictions.NAMES:
        return restrictions.load(name)
    if name == "hilist":
        return catalog.shipped_hilist()
    if name in knowledge.names():
        return knowledge.shipped(name)
    raise InputError(f"未知的知识库表 unknown kb table {name!r}; 可选: {', '.join(names())}")


def label(name: str) -> str:
    """The Chinese label of table ``name``."""
    return model_table(name).label


def column_label(name: str, column: str) -> str:
    """The Chinese label of a column (the column name when it has none)."""
    t = model_table(name)
    return t[column].label if column in t else column


def write(data: pa.Table, out: Path) -> None:
    """Write ``data`` as CSV (UTF-8 with BOM, so Excel reads Chinese), Parquet or XLSX."""
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        with out.open("wb") as fh:
            fh.write("\ufeff".encode())
            pacsv.write_csv(data, fh)
    elif suffix == ".parquet":
        pq.write_table(data, out)
    elif suffix == ".xlsx":
        _write_xlsx(data, out)
    else:
        raise InputError(f"{out}: 不支持的格式 unsupported format {suffix!r} (.csv/.parquet/.xlsx)")


def _write_xlsx(data: pa.Table, out: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(data.column_names)
    columns = [c.to_pylist() for c in data.columns]
    for row in zip(*columns, strict=True):
        ws.append(
            [str(v) if v is not None and not isinstance(v, int | float | str) else v for v in row]
        )
    wb.save(out)
