"""Reference cases of every scheme (tests/data/drg/<scheme>/sample_cases.csv)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from grouping_helpers import SCHEMES, sample_path

from huiyan.grouping import read_cases_csv

_TEXT = ("mdc", "adrg", "drg", "mdc_mapped", "adrg_mapped", "drg_mapped")


@pytest.fixture(scope="session")
def samples() -> dict[str, tuple[pa.Table, list[dict[str, str]]]]:
    """scheme -> (case table, reference rows)."""
    out = {}
    for scheme in SCHEMES:
        path = sample_path(scheme)
        options = pacsv.ConvertOptions(
            strings_can_be_null=False, column_types=dict.fromkeys(_TEXT, pa.string())
        )
        ref = pacsv.read_csv(path, convert_options=options)
        out[scheme] = (read_cases_csv(path), ref.to_pylist())
    return out
