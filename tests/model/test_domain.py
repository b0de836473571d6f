"""The shared domain definitions: the principal diagnosis and the year weighting."""

from __future__ import annotations

import ibis

from huiyan.model.domain import (
    DSCG_CUT_SHORT,
    principal_diagnoses,
    secondary_diagnoses,
    year_weight,
    year_weights,
)
from huiyan.model.enums import codes


def _diag(rows: list[tuple[str, int, str, str | None]]) -> ibis.Table:
    setl, srt, code, flag = zip(*rows, strict=True)
    return ibis.memtable(
        {"setl_id": setl, "diag_srt_no": srt, "diag_code": code, "maindiag_flag": flag},
        schema={
            "setl_id": "string",
            "diag_srt_no": "int32",
            "diag_code": "string",
            "maindiag_flag": "string",
        },
    )


def test_the_flagged_diagnosis_is_principal_else_the_first_by_order_number() -> None:
    d = _diag(
        [
            ("S1", 1, "J18.900", "1"),
            ("S1", 2, "I10.x00", "0"),
            # flagged at order 2: the flag wins (QC reports the order number separately)
            ("S2", 1, "R50.900", "0"),
            ("S2", 2, "A09.900", "1"),
            # no flag filled: the first by order number
            ("S3", 2, "E11.900", None),
            ("S3", 1, "K29.700", None),
        ]
    )
    principal = principal_diagnoses(d).to_pyarrow().sort_by("setl_id")
    assert principal.column("diag_code").to_pylist() == ["J18.900", "A09.900", "K29.700"]
    secondary = secondary_diagnoses(d).to_pyarrow().sort_by("setl_id")
    assert secondary.column("diag_code").to_pylist() == ["I10.x00", "R50.900", "E11.900"]


def test_year_weights_in_python_and_as_a_column_agree() -> None:
    weights = [1, 2, 7]
    assert year_weights([2023, 2024, 2025], weights) == {2023: 1, 2024: 2, 2025: 7}
    years = ibis.memtable({"year": [2021, 2022, 2023, 2024, 2025]})
    col = years.select(w=year_weight(years.year, 2025, weights)).to_pyarrow()
    assert col.column("w").to_pylist() == [0.0, 0.0, 1.0, 2.0, 7.0]


def test_cut_short_discharge_ways_are_codes_of_the_enum() -> None:
    assert set(DSCG_CUT_SHORT) <= codes("dscg_way")
