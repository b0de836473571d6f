"""Sex-limited code ranges (``data/coding/sex_specific.csv``): which diagnoses and procedures
apply to one sex only.

One table serves both sides that need it: the settlement-list QC checks a case against it and
the synthetic region keeps its clean cases within it, so the two can never disagree.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import pyarrow as pa

from huiyan.kb.tablefiles import open_csv_text

_FILE = "data/coding/sex_specific.csv"


@cache
def table() -> pa.Table:
    """The ranges as published: ``kind`` (diag/oprn), ``prefix``, ``gend`` (1/2), ``note``."""
    path = resources.files("huiyan.kb").joinpath(_FILE)
    with open_csv_text(path) as fh:
        rows = list(csv.DictReader(fh))
    return pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]})


@cache
def _prefixes(kind: str) -> tuple[tuple[str, str], ...]:
    return tuple((r["prefix"], r["gend"]) for r in table().to_pylist() if r["kind"] == kind)


def required_sex(code: str | None, kind: str = "oprn") -> str | None:
    """The sex (``1``/``2``) a diagnosis (``diag``) or procedure (``oprn``) code is limited to."""
    if not code:
        return None
    return next((g for prefix, g in _prefixes(kind) if code.startswith(prefix)), None)
