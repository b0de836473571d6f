"""Codes are normalised once and legacy codes mapped to 医保版 2.0, keeping the original."""

from __future__ import annotations

from pathlib import Path

from tests.ingest.builders import write_dataset

from huiyan.engine import Store
from huiyan.ingest import ingest
from huiyan.ingest.codemap import map_code
from huiyan.kb import dictionaries


def test_map_code_only_maps_codes_outside_the_dictionary() -> None:
    legacy = next(
        k
        for k, v in dictionaries.diagnosis_map().items()
        if k != v and k not in dictionaries.diagnoses()
    )
    code, mapped = map_code(legacy.lower(), "diag")
    assert mapped and code in dictionaries.diagnoses()
    assert map_code(" s32.000X011 ", "diag") == ("S32.000x011", False)


def test_diagnoses_and_procedures_mapped_with_original(store: Store, data_dir: Path) -> None:
    dise = [
        {"setl_id": "S1", "diag_srt_no": "1", "diag_code": " a01.000X002", "diag_name": "伤寒"},
        {
            "setl_id": "S1",
            "diag_srt_no": "2",
            "diag_code": "e11.400x024＋g63.2＊",
            "diag_name": "糖尿病周围神经病",
        },
    ]
    oprn = [
        {
            "setl_id": "S1",
            "oprn_srt_no": "1",
            "oprn_oprt_code": "00.6600X008",
            "oprn_oprt_name": "PTCA",
        }
    ]
    write_dataset(data_dir, diseinfo=dise, oprninfo=oprn)
    ingest(data_dir, store)
    rows = store.con.sql(
        "select diag_code, diag_code_orig from diseinfo order by diag_srt_no"
    ).fetchall()
    assert rows[0] == (dictionaries.diagnosis_map()["A01.000x002"], "a01.000X002")
    assert rows[1] == ("E11.400x024+G63.2*", None)
    (oprn_row,) = store.con.sql(
        "select oprn_oprt_code, oprn_oprt_code_orig from oprninfo"
    ).fetchall()
    assert oprn_row[1] == "00.6600X008" and oprn_row[0] in dictionaries.procedures()
