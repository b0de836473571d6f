"""``checked`` mode: extra input statuses; the default keeps the reference's behaviour."""

from __future__ import annotations

import pyarrow as pa
import pytest

from huiyan.grouping import Case, group_case, group_table

SCHEME = "chs-drg-1.1"
GOOD = ("D09.302", "I24.000x004")  # sample case S000002: KR19


def _both(case: Case, *, checked: bool) -> str:
    table = pa.table(
        {
            "case_id": [case.case_id],
            "gender": pa.array([case.gender], pa.string()),
            "age": pa.array([case.age], pa.int64()),
            "age_days": pa.array([case.age_days], pa.int64()),
            "birth_weight": pa.array([case.birth_weight], pa.int64()),
            "diagnoses": ["|".join(case.diagnoses)],
            "procedures": ["|".join(case.procedures)],
        }
    )
    batch = group_table(table, SCHEME, checked=checked).column("status")[0].as_py()
    single = group_case(case, SCHEME, checked=checked).status
    assert batch == single
    return single


@pytest.mark.parametrize(
    ("case", "reference", "checked"),
    [
        (Case("u", "1", 40, None, None, ("D09.302", "NOT.A.CODE")), "SUCCESS", "ZD_NOT_VALID"),
        (Case("p", "1", 40, None, None, GOOD, ("99.9999x999",)), "SUCCESS", "SS_NOT_VALID"),
        (Case("s", "1", 40, None, None, ("G63.2*", "E11.900")), "FAIL", "ZD_NOT_PRINCIPAL"),
        (Case("n", "1", 0, 3, None, ("P07.100",)), "CHECK_FAILED", "NEWBORN_ERROR"),
        (Case("w", "1", 0, 3, 0, ("P07.100",)), None, "NEWBORN_ERROR"),
        (Case("g", "", 40, None, None, GOOD), "CHECK_FAILED", "CHECK_FAILED"),
        (Case("ok", "1", 40, None, None, GOOD), "SUCCESS", "SUCCESS"),
    ],
    ids=lambda v: v.case_id if isinstance(v, Case) else str(v),
)
def test_checked_statuses(case, reference, checked):
    got_reference = _both(case, checked=False)
    if reference is not None:
        assert got_reference == reference
    assert _both(case, checked=True) == checked


def test_sex_incompatible_principal():
    from huiyan.grouping.compiled import compile_scheme

    male_only = compile_scheme(SCHEME).code_list("MDCM.pdx")[0]
    case = Case("m", "2", 40, None, None, (male_only,))
    assert _both(case, checked=False) != "ZD_NOT_MATCH_GENDER"
    assert _both(case, checked=True) == "ZD_NOT_MATCH_GENDER"
