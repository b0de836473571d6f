"""Regenerate ``kb/data/catalog/hilist.csv`` from the codes and names of the NHSA knowledge points.

The default catalog lists every drug code (by generic name) and every 15-digit service item
the two-libraries files name, with the charge category read from the code
(``chrgitm_type_by_prefix.csv``, the longest prefix wins) and the unit of the batch 8-1
hourly items (小时) and daily items (日). Prices and class A/B are left blank (not known
nationally: every region prices its own items); restrictions stay in ``item_restriction``
and are not copied into the catalog columns, so they are not counted twice.

Run: ``python -m huiyan.kb.build.catalog`` (writes the file in the package).
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

from huiyan.kb import lk
from huiyan.kb.tablefiles import open_csv_text
from huiyan.model.tables import HILIST

CATALOG = "data/catalog/hilist.csv"

# (file, code column, name column, list_type); drugs come from the *_codes files.
_ITEM_FILES = (
    ("b1_item_sex_points.csv", "国标代码", "项目名称"),
    ("b1_item_age_points.csv", "国标代码", "项目名称"),
    ("b2_item_surgery_discount_points.csv", "国标代码", "项目名称"),
    ("b7_item_duplicate_charge_points.csv", "主项编码", "主项名称"),
    ("b7_item_duplicate_charge_points.csv", "从项编码", "从项名称"),
    ("b8_1_item_frequency_points.csv", "项目编码", "项目名称"),
    ("b8_2_item_age_working_points.csv", "项目代码", "项目名称"),
    ("b8_3_item_course_points.csv", "项目代码", "项目名称"),
    ("b8_4_item_period_frequency_points.csv", "项目代码", "项目名称"),
)
_DRUG_FILES = (
    "b1_drug_sex_codes.csv",
    "b1_drug_age_codes.csv",
    "b3_drug_insurance_type_codes.csv",
    "b4_drug_care_setting_codes.csv",
    "b5_drug_institution_level_codes.csv",
    "b6_drug_payment_course_codes.csv",
)
_UNITS = {"小时": "小时", "日": "日", "天": "日"}


def charge_types() -> list[tuple[str, str]]:
    """(code prefix, med_chrgitm_type), longest prefix first."""
    path = resources.files("huiyan.kb").joinpath("data/catalog/chrgitm_type_by_prefix.csv")
    with open_csv_text(path) as fh:
        pairs = [(r["code_prefix"], r["med_chrgitm_type"]) for r in csv.DictReader(fh)]
    return sorted(pairs, key=lambda p: -len(p[0]))


def charge_type(code: str, types: list[tuple[str, str]]) -> str:
    """The charge category of ``code`` by the longest matching prefix ("" if none)."""
    return next((t for prefix, t in types if code.startswith(prefix)), "")


def build() -> str:
    """The text of ``hilist.csv``: one row per code, sorted by code."""
    entries: dict[str, dict[str, str]] = {}
    for file, code_col, name_col in _ITEM_FILES:
        for row in lk.rows(file):
            entries.setdefault(row[code_col], {"hilist_name": row[name_col], "list_type": "2"})
    for file in _DRUG_FILES:
        for row in lk.rows(file):
            code = row["药品代码"] if "药品代码" in row.cells else row["国标代码"]
            entries.setdefault(code, {"hilist_name": row["药品通用名"], "list_type": "1"})
    for row in lk.rows("b8_1_item_frequency_points.csv"):
        entries[row["项目编码"]]["unit"] = _UNITS[row["数量单位"]]
    types = charge_types()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HILIST.columns, lineterminator="\n")
    writer.writeheader()
    for code in sorted(entries):
        e = entries[code]
        writer.writerow({"hilist_code": code, "med_chrgitm_type": charge_type(code, types), **e})
    return out.getvalue()


def main() -> None:
    """Write the catalog into the package's data folder."""
    target = Path(str(resources.files("huiyan.kb").joinpath(CATALOG)))
    target.write_text(build(), encoding="utf-8")


if __name__ == "__main__":
    main()
