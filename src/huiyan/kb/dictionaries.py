"""Code dictionaries of the national coding standards (医保版 2.0) and legacy-code maps.

The dictionaries are those of the CHS-DRG 1.1 scheme folder (``data/drg/chs-drg-1.1``):
ICD-10 医保版 2.0 diagnoses, ICD-9-CM-3 医保版 2.0 procedures and the maps from legacy
codes. TSV cells are verbatim (never trimmed: one map target has a meaningful leading space).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from huiyan.kb.tablefiles import open_csv_text

NATIONAL_SCHEME = "chs-drg-1.1"


def _rows(scheme: str, name: str) -> list[list[str]]:
    path = resources.files("huiyan.kb").joinpath(f"data/drg/{scheme}/{name}.tsv")
    with open_csv_text(path) as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return list(reader)


@cache
def diagnoses(scheme: str = NATIONAL_SCHEME) -> dict[str, str]:
    """ICD-10 医保版 2.0 diagnosis code -> name."""
    return dict(_rows(scheme, "diagnoses"))


@cache
def procedures(scheme: str = NATIONAL_SCHEME) -> dict[str, str]:
    """ICD-9-CM-3 医保版 2.0 procedure code -> name."""
    return dict(_rows(scheme, "procedures"))


@cache
def diagnosis_map(scheme: str = NATIONAL_SCHEME) -> dict[str, str]:
    """Legacy or variant diagnosis code -> 医保版 2.0 code (identity rows included)."""
    return dict(_rows(scheme, "diagnosis_map"))


@cache
def procedure_map(scheme: str = NATIONAL_SCHEME) -> dict[str, str]:
    """Legacy or variant procedure code -> 医保版 2.0 code (identity rows included)."""
    return dict(_rows(scheme, "procedure_map"))
