"""Reading the national two-libraries knowledge points (``data/lk/<version>/*.csv``) as published.

The CSV files keep NHSA's Chinese headers; this module only reads them and names the file,
row and column of anything it cannot read. Turning them into restriction tables is
``restrictions.py``'s job.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from huiyan.errors import ConfigurationError
from huiyan.kb.tablefiles import open_csv_text

LK_VERSION = "nhsa-lk-2025"


def folder(version: str = LK_VERSION) -> Traversable:
    """The package folder holding one version of the knowledge points."""
    return resources.files("huiyan.kb").joinpath(f"data/lk/{version}")


@dataclass(frozen=True)
class Row:
    """One data row of a points file: its 1-based row number (header excluded) and cells."""

    file: str
    number: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        try:
            return (self.cells[column] or "").strip()
        except KeyError:
            raise ConfigurationError(
                f"{self.file}: 缺少列 {column!r} (missing column); 现有列: {', '.join(self.cells)}"
            ) from None

    def fail(self, column: str, why: str) -> ConfigurationError:
        """An error naming this row's file, row number, column and value."""
        return ConfigurationError(
            f"{self.file} 第{self.number}行 列 {column!r} 值 {self[column]!r}: {why}"
        )


def rows(file: str, version: str = LK_VERSION) -> Iterator[Row]:
    """The data rows of ``file`` (e.g. ``b1_drug_sex_points.csv``)."""
    path = folder(version).joinpath(file)
    if not path.is_file():
        raise ConfigurationError(f"knowledge-point file not found: data/lk/{version}/{file}")
    with open_csv_text(path) as fh:
        for number, cells in enumerate(csv.DictReader(fh), start=1):
            yield Row(file, number, cells)


def drug_codes(
    points_file: str, codes_file: str, version: str = LK_VERSION
) -> Iterator[tuple[Row, Row, str]]:
    """Each (point row, code row, drug code) of a drug rule: codes join points by 药品通用名.

    A code whose generic name has no point row is an error: silently dropping it would
    lose a restriction.
    """
    points: dict[str, Row] = {}
    for point in rows(points_file, version):
        points.setdefault(point["药品通用名"], point)
    for code_row in rows(codes_file, version):
        column = "药品代码" if "药品代码" in code_row.cells else "国标代码"
        name = code_row["药品通用名"]
        if name not in points:
            raise code_row.fail("药品通用名", f"在 {points_file} 中没有对应的知识点")
        code = code_row[column]
        if not code:
            raise code_row.fail(column, "药品代码为空")
        yield points[name], code_row, code
