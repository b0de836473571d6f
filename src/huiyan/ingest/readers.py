"""Readers: each turns one file into a view of text columns named as in the model.

The view ``RAW`` has ``__row`` (1-based data row of the file; for interface messages, the
line of the message) and one VARCHAR column per model field present in the file, in file
order, with the text as in the file (the stage cleans and converts it). A CSV view has no
``__row``: the store's CSV scan cannot number rows without serialising the parallel read, so
the stage numbers them by insertion order (its rowid) and
``row_number_sql`` turns that ordinal into the file row around the lines the reader rejected.
Rows the reader itself cannot split into fields (wrong column count, undecodable bytes) go
to a rejects table ``(__row, reason_code, detail, record)``. Everything stays inside the store
for CSV and Parquet, read once by the stage; XLSX and JSON messages are parsed in Python
(they are small by nature).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from huiyan.engine import local
from huiyan.errors import InputError
from huiyan.ingest import encoding
from huiyan.ingest.header import HeaderMap, detect_delimiter, map_header, split_header
from huiyan.model import Table

RAW = "__ingest_raw"
REJECTS = "__ingest_rejects"
SHIFT = "__ingest_shift"  # ordinal -> file row offsets around rejected CSV lines
ARROW = "__ingest_arrow"
_END = "__end"  # a column after the header's, which only a row with a field too many fills

# The CSV scan's buffer: up to 128 MiB instead of the store's default (32 MiB). Each buffer is a
# batch of the ordered insert that builds the stage, and every batch boundary leaves partly
# filled row groups that the insert merges, copying them: on 30M fee lines the stage took
# 28.6-31.6 s with 128 MiB against 37.1-39.8 s with the default (64 MiB in between, 256 MiB
# no better). A smaller file needs enough buffers to keep every thread busy: setl_list (1M rows,
# 147 MB) staged in 2.2-2.7 s with 32 MiB buffers against 3.8-4.1 s with two 128 MiB ones, on
# one thread (CPU time = wall time); 8 and 16 MiB were no faster than 32.
# A plain read into Arrow does not gain from large buffers (11 s default, 13-16 s at 128 MiB).
CSV_BUFFER_BYTES = 128 * 1024 * 1024
CSV_BUFFER_MIN_BYTES = 32 * 1024 * 1024
CSV_BUFFERS_PER_FILE = 8


def csv_buffer_bytes(file_size: int) -> int:
    """The scan buffer for a file: large, but with at least about 8 buffers to the file."""
    floor = min(CSV_BUFFER_MIN_BYTES, CSV_BUFFER_BYTES)
    return max(floor, min(CSV_BUFFER_BYTES, file_size // CSV_BUFFERS_PER_FILE))


# The store's CSV error types -> quarantine reason codes.
_REJECT_CODES = {
    "MISSING COLUMNS": "column_count",
    "TOO MANY COLUMNS": "column_count",
    "INVALID ENCODING": "encoding",
}


@dataclass
class Staged:
    """What a reader staged: row counts, encoding and the columns it kept out."""

    rows: int = 0
    rejected: int = 0
    encoding: str = ""
    unknown_columns: tuple[str, ...] = ()
    columns: list[str] = field(default_factory=list)
    damaged_lines: int = 0
    csv_rejects: bool = False
    numbered: bool = True  # the view has ``__row``; else rows are numbered by stage order
    shape: bool = False  # the view has ``__shape``: 'extra'/'missing' fields, else NULL
    serial_view: str | None = None  # the view read on one thread, if the parallel read fails
    notes: list[str] = field(default_factory=list)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_rejects(con: local.Connection) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {REJECTS} "
        "(__row BIGINT, reason_code VARCHAR, detail VARCHAR, record VARCHAR)"
    )


def _count(con: local.Connection, name: str) -> int:
    return int(con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0])


def _first_line(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        return fh.readline().rstrip("\r\n")


def stage_csv(
    con: local.Connection,
    path: Path,
    t: Table,
    tmp: Path,
    found: encoding.FileScan | None = None,
) -> Staged:
    """Stage a delimited text file (encoding, line ends and delimiter detected).

    ``found`` is the file's ``encoding.scan`` when the caller made it already.
    """
    staged = Staged()
    _empty_rejects(con)
    if path.stat().st_size == 0:
        staged.notes.append(f"{path.name}: 空文件 empty file, 0 rows")
        return _empty_stage(con, t, staged)
    det = encoding.detect(path, found)
    staged.encoding = det.encoding
    source = path
    if not det.direct:
        source = tmp / (path.name + ".utf8")
        staged.damaged_lines = encoding.transcode(path, source, det.encoding)
    header_line = _first_line(source)
    delimiter = detect_delimiter(header_line, t)
    names = split_header(header_line, delimiter)
    hmap = map_header(names, t, str(path))
    staged.unknown_columns = hmap.unknown
    staged.columns = hmap.present
    if _only_header(source):
        staged.notes.append(f"{path.name}: 只有表头 header only, 0 rows")
        return _empty_stage(con, t, staged)
    file_names = [tgt or f"__extra_{i}" for i, tgt in enumerate(hmap.targets)]
    select = ", ".join(_q(c) for c in hmap.present)
    # The CSV scan drops an empty field after the last column: a row with one delimiter too many
    # and an empty last field would be read shifted. So one more column is declared, rows
    # are padded instead of rejected, and empty fields read as '' (nullstr is a byte no
    # text holds): a value in the extra column, or a NULL (padding) in the last one, is a
    # row whose field count differs from the header's (``checks``: column_count).
    shape = bool(names and names[-1].strip())
    dialect = ""
    if shape:
        staged.shape = True
        last = _q(file_names[-1])
        file_names.append(_END)
        dialect = ", null_padding = true, nullstr = '\x01'"
        select += (
            f", CASE WHEN {_q(_END)} IS NOT NULL THEN 'extra' "
            f"WHEN {last} IS NULL THEN 'missing' END AS __shape"
        )
    # No sniffing: the dialect is known, and the sniffer gives up on a stray quote in its
    # sample, where reading with rejects quarantines the malformed lines instead.
    columns = ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in file_names)
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    # Not numbered here: row_number() OVER () serialises the parallel CSV scan and doubled the
    # read time, while the stage's insertion keeps the file's order (preserve_insertion_order)
    # and numbers rows for free. Read once, by the stage.
    view = (
        f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT {select} "
        f"FROM read_csv({_lit(str(source))}, auto_detect = false, header = true, "
        f"delim = {_lit(delimiter)}, quote = '\"', escape = '\"', columns = {{{columns}}}, "
        f"store_rejects = true{dialect}, buffer_size = {csv_buffer_bytes(source.stat().st_size)}"
    )
    con.execute(view + ")")
    if shape:
        # The store's parallel scan refuses null_padding with a newline inside a quoted value;
        # such a file is read again on one thread (``serial_view``).
        staged.serial_view = (
            "DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans; "
            + view
            + ", parallel = false)"
        )
    staged.csv_rejects = True
    staged.numbered = False
    return staged


def finish(con: local.Connection, staged: Staged) -> None:
    """After the stage was read from the view: collect the CSV rejects and their row shifts."""
    con.execute(f"DROP VIEW IF EXISTS {RAW}")
    if staged.csv_rejects:
        _collect_csv_rejects(con)
        staged.rejected = _count(con, REJECTS)
        if staged.rejected:
            _shifts(con)


def _only_header(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.readline()
        return not fh.read(4096).strip()


def _collect_csv_rejects(con: local.Connection) -> None:
    # The scan reports file lines (the header is line 1): data row = line - 1. One row may be
    # reported for several errors; the first one is the reason.
    cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in _REJECT_CODES.items())
    con.execute(
        f"INSERT INTO {REJECTS} SELECT line - 1, "
        f"CASE WHEN error_type = 'MISSING COLUMNS' AND is_last THEN 'truncated' "
        f"ELSE coalesce(CASE error_type {cases} END, 'malformed') END, "
        f"error_message, to_json({{'line': csv_line}}) "
        f"FROM (SELECT *, line = max(line) OVER () AS is_last, "
        f"row_number() OVER (PARTITION BY line ORDER BY column_idx) AS k FROM reject_errors) "
        f"WHERE k = 1"
    )
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")


def _shifts(con: local.Connection) -> None:
    # The stage numbers only the rows the scan could parse; the k-th parsed row is the k-th data
    # row that is not a reject. With rejects r_1 < r_2 < ..., rows from r_i - i + 1 on move
    # down by i (``row_number_sql``'s ASOF join picks the largest threshold below each row).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SHIFT} AS SELECT r - i + 1 AS t, max(i) AS i "
        f"FROM (SELECT r, row_number() OVER (ORDER BY r) AS i "
        f"FROM (SELECT DISTINCT __row AS r FROM {REJECTS})) GROUP BY ALL"
    )


def row_number_sql(staged: Staged, alias: str = "s") -> tuple[str, str]:
    """The file row of a stage row ``alias``, as an SQL expression and the join it needs.

    Only quarantined rows need it, so the CSV rows' numbers are worked out for those alone.
    """
    if staged.numbered:
        return f"{alias}.__row", ""
    ordinal = f"{alias}.rowid + 1"
    if not staged.rejected:
        return ordinal, ""
    return f"{ordinal} + coalesce(x.i, 0)", f"ASOF LEFT JOIN {SHIFT} x ON {ordinal} >= x.t"


def _empty_stage(con: local.Connection, t: Table, staged: Staged) -> Staged:
    cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {_q(c)}" for c in (staged.columns or t.columns))
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT CAST(NULL AS BIGINT) AS __row, {cols} WHERE false"
    )
    staged.columns = staged.columns or t.columns
    return staged


def stage_parquet(
    con: local.Connection,
    path: Path,
    t: Table,
    tmp: Path,
    found: encoding.FileScan | None = None,
) -> Staged:
    """Stage a Parquet file: its columns cast to text, then validated like any other."""
    _empty_rejects(con)
    src = f"read_parquet({_lit(str(path))})"
    try:
        names = [r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    except local.Error as exc:
        raise InputError(f"{path}: 无法读取 Parquet 文件 cannot read Parquet: {exc}") from exc
    hmap = map_header(names, t, str(path))
    select = ", ".join(
        f"CAST({_q(raw)} AS VARCHAR) AS {_q(tgt)}"
        for raw, tgt in zip(names, hmap.targets, strict=True)
        if tgt
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {RAW} AS "
        f"SELECT file_row_number + 1 AS __row, {select} "
        f"FROM read_parquet({_lit(str(path))}, file_row_number = true)"
    )
    return Staged(encoding="parquet", unknown_columns=hmap.unknown, columns=hmap.present)


def _cell(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


# Workbooks are read whole, as a dense grid of cells: the limits are checked on the zip before
# reading, so that a small file naming a far cell (XFD1048576: a 512 GiB grid) or holding a
# huge string is refused instead of exhausting memory. Larger tables belong in CSV files.
XLSX_MAX_BYTES = 512 * 1024 * 1024  # uncompressed XML parts
XLSX_MAX_CELLS = 50_000_000
_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_workbook_size(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            size = sum(i.file_size for i in infos)
            if size > XLSX_MAX_BYTES:
                raise InputError(
                    f"{path}: Excel 文件解压后 {size / 2**20:,.0f} MiB,超过上限 "
                    f"{XLSX_MAX_BYTES // 2**20} MiB,请另存为 CSV / workbook too large "
                    f"uncompressed ({size:,} bytes): save it as CSV"
                )
            rows = cols = 0
            for info in infos:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    for m in _CELL_REF.finditer(zf.read(info)):
                        cols = max(cols, _column_number(m.group(1)))
                        rows = max(rows, int(m.group(2)))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: 无法读取 Excel 文件 cannot read workbook: {exc}") from exc
    if rows * cols > XLSX_MAX_CELLS:
        raise InputError(
            f"{path}: 工作表范围 {rows:,} 行 × {cols:,} 列超过上限 {XLSX_MAX_CELLS:,} 个单元格"
            f" / sheet range of {rows:,} rows x {cols:,} columns exceeds {XLSX_MAX_CELLS:,} cells"
        )


def stage_xlsx(
    con: local.Connection,
    path: Path,
    t: Table,
    tmp: Path,
    found: encoding.FileScan | None = None,
) -> Staged:
    """Stage the first sheet of an Excel workbook (read with python-calamine)."""
    from python_calamine import CalamineWorkbook

    _check_workbook_size(path)
    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    except Exception as exc:  # calamine raises its own error types per format problem
        raise InputError(f"{path}: 无法读取 Excel 文件 cannot read workbook: {exc}") from exc
    if not rows:
        staged = Staged(encoding="xlsx", notes=[f"{path.name}: 空工作表 empty sheet, 0 rows"])
        _empty_rejects(con)
        return _empty_stage(con, t, staged)
    header = [str(c) if c is not None else "" for c in rows[0]]
    hmap = map_header(header, t, str(path))
    columns: dict[str, list[str | None]] = {"__row": []}
    for tgt in hmap.present:
        columns[tgt] = []
    index = [(i, tgt) for i, tgt in enumerate(hmap.targets) if tgt]
    for n, row in enumerate(rows[1:], start=1):
        if all(c is None or c == "" for c in row):
            continue  # trailing blank rows of a sheet are formatting, not data
        columns["__row"].append(str(n))
        for i, tgt in index:
            columns[tgt].append(_cell(row[i]) if i < len(row) else None)
    data = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    staged = stage_arrow(con, data)
    staged.encoding, staged.unknown_columns = "xlsx", hmap.unknown
    return staged


def stage_arrow(con: local.Connection, data: pa.Table) -> Staged:
    """Stage text columns already named as in the model, with a ``__row`` column."""
    _empty_rejects(con)
    # Registered until the run's cleanup: the view reads it when the stage is built.
    con.register(ARROW, data)
    cols = ", ".join(_q(c) for c in data.column_names if c != "__row")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT CAST(__row AS BIGINT) AS __row, "
        f"{cols} FROM {ARROW}"
    )
    return Staged(columns=[c for c in data.column_names if c != "__row"])


READERS = {"csv": stage_csv, "parquet": stage_parquet, "xlsx": stage_xlsx}


def temp_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="huiyan-ingest-")


__all__ = [
    "ARROW",
    "RAW",
    "READERS",
    "REJECTS",
    "SHIFT",
    "HeaderMap",
    "Staged",
    "row_number_sql",
    "stage_arrow",
    "temp_dir",
]
