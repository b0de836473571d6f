"""Reading a case CSV: typed columns, clear errors naming file, row and field."""

from __future__ import annotations

import pytest

from huiyan.errors import InputError
from huiyan.grouping import Case, read_cases_csv

HEADER = "case_id,gender,age,age_days,birth_weight,dept,los,discharge_way,diagnoses,procedures\n"


def test_reads_the_ten_columns_with_empty_as_missing(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "A1,2,0,3,,,5,1,P07.100|P22.000,\n", encoding="utf-8")
    row = read_cases_csv(path).to_pylist()[0]
    assert row["age"] == 0 and row["birth_weight"] is None and row["procedures"] == ""
    case = Case.from_row(row)
    assert case.diagnoses == ("P07.100", "P22.000") and case.procedures == ()


def test_non_integer_field_names_file_row_and_field(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "A1,1,40,,,,3,1,I10.x00,\nA2,1,四十,,,,3,1,I10.x00,\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"bad\.csv.*age.*第3行"):
        read_cases_csv(path)


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("case_id,gender\nA1,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="diagnoses"):
        read_cases_csv(path)


def test_codes_are_split_on_both_separators_and_never_trimmed():
    case = Case.from_row({"case_id": "x", "diagnoses": "A01.000, B02.000|", "procedures": ""})
    assert case.diagnoses == ("A01.000", " B02.000", "")
