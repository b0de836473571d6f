"""Grouper input: the case table (columns of ``sample_cases.csv``) and one case.

Codes are split at ``|`` and ``,`` and never trimmed (README, Codes): an empty diagnoses
field gives one empty principal code, an empty procedures field gives no procedures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from huiyan.errors import InputError

CASE_COLUMNS = (
    "case_id",
    "gender",
    "age",
    "age_days",
    "birth_weight",
    "dept",
    "los",
    "discharge_way",
    "diagnoses",
    "procedures",
)
INT_COLUMNS = ("age", "age_days", "birth_weight", "los")
SEPARATORS = re.compile(r"[|,]")


def split_codes(text: str | None, *, keep_empty: bool) -> list[str]:
    """Split a code field; ``keep_empty`` (diagnoses) keeps the one empty item of ``""``."""
    if not text:
        return [""] if keep_empty else []
    return SEPARATORS.split(text)


@dataclass(frozen=True)
class Case:
    """One case as the grouper sees it (first diagnosis / procedure = principal)."""

    case_id: str
    gender: str | None
    age: int | None
    age_days: int | None
    birth_weight: int | None
    diagnoses: tuple[str, ...]
    procedures: tuple[str, ...] = ()
    los: int | None = None
    dept: str | None = None
    discharge_way: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Case:
        """From a row of the case table (code fields as text or as lists)."""

        def codes(value: Any, keep_empty: bool) -> tuple[str, ...]:
            if isinstance(value, (list, tuple)):
                return tuple(value)
            return tuple(split_codes(value, keep_empty=keep_empty))

        def num(value: Any) -> int | None:
            return None if value is None or value == "" else int(value)

        return cls(
            case_id=str(row["case_id"]),
            gender=row.get("gender"),
            age=num(row.get("age")),
            age_days=num(row.get("age_days")),
            birth_weight=num(row.get("birth_weight")),
            diagnoses=codes(row.get("diagnoses"), True),
            procedures=codes(row.get("procedures"), False),
            los=num(row.get("los")),
            dept=row.get("dept"),
            discharge_way=row.get("discharge_way"),
        )


def read_cases_csv(path: str | Path) -> pa.Table:
    """Read a case CSV (UTF-8, the ten case columns) into a typed Arrow table.

    Raises InputError naming the file, row and field of the first bad values.
    """
    path = Path(path)
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(CASE_COLUMNS, pa.string()),
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"无法读取病例文件 {path}: {exc}") from exc
    missing = [c for c in CASE_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"病例文件 {path} 缺少列: {', '.join(missing)}")
    columns: dict[str, pa.Array] = {}
    for name in CASE_COLUMNS:
        col = table.column(name).combine_chunks()
        if name in INT_COLUMNS:
            ok = pc.or_(pc.equal(col, ""), pc.match_substring_regex(col, r"^-?[0-9]+$"))
            if not pc.all(ok).as_py():
                bad = pc.indices_nonzero(pc.invert(ok)).to_pylist()[:5]
                rows = ", ".join(f"第{i + 2}行({col[i].as_py()!r})" for i in bad)
                raise InputError(f"病例文件 {path} 字段 {name} 应为整数或空: {rows}")
            col = pc.cast(pc.if_else(pc.equal(col, ""), None, col), pa.int64())
        columns[name] = col
    ids = columns["case_id"]
    if pc.any(pc.equal(ids, "")).as_py():
        row = pc.indices_nonzero(pc.equal(ids, ""))[0].as_py() + 2
        raise InputError(f"病例文件 {path} 第{row}行: 字段 case_id 为空")
    return pa.table(columns)
