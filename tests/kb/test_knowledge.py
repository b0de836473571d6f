from __future__ import annotations

import re

import ibis
import pyarrow as pa
import pytest

from huiyan.kb import catalog, knowledge
from huiyan.kb.dictionaries import diagnoses, procedures

DX_COLUMNS = {
    "dx_evidence": ["diag_prefix"],
    "diag_restriction": ["diag_prefix"],
    "diag_exclusive": ["diag_prefix_a", "diag_prefix_b"],
    "outpatient_treatable": ["diag_prefix"],
}
ATC = re.compile(r"^[ABCDGHJLMNPRSV](\d\d([A-Z]([A-Z](\d\d)?)?)?)?$")


def _exists(prefix: str, codes: list[str]) -> bool:
    return any(c.startswith(prefix) for c in codes)


@pytest.mark.parametrize("name", list(DX_COLUMNS))
def test_diagnosis_prefixes_exist(name):
    codes = list(diagnoses())
    t = knowledge.shipped(name)
    for col in DX_COLUMNS[name]:
        missing = [p for p in set(t[col].to_pylist()) if not _exists(p, codes)]
        assert not missing, (name, col, missing)


def test_procedure_prefixes_exist():
    codes = list(procedures())
    for name in ("oprn_evidence", "procedure_incision"):
        missing = [
            p
            for p in set(knowledge.shipped(name)["oprn_prefix"].to_pylist())
            if not _exists(p, codes)
        ]
        assert not missing, (name, missing)


def test_item_codes_are_in_the_shipped_catalog_and_atc_codes_are_valid():
    known = set(catalog.shipped_hilist()["hilist_code"].to_pylist())
    for name, col in [
        ("item_exclusive", "hilist_code"),
        ("exam_indication", "hilist_code"),
        ("item_bundle", "bundle_code"),
        ("item_bundle", "component_code"),
    ]:
        assert set(knowledge.shipped(name)[col].to_pylist()) <= known, name
    for name in ("dx_evidence", "oprn_evidence"):
        for row in knowledge.shipped(name).to_pylist():
            if row["evidence_type"] == "item":
                assert row["evidence_code"] in known, row
            else:
                assert ATC.match(row["evidence_code"]), row


def test_defaults_have_substance():
    assert knowledge.shipped("dx_evidence").num_rows >= 300
    assert knowledge.shipped("drg_weight").num_rows == 0


def test_dataset_rows_replace_the_shipped_rows_of_their_key():
    shipped = knowledge.shipped("dx_evidence")
    dataset = pa.table(
        {
            "diag_prefix": ["E11", "Q99"],
            "role": ["any", "any"],
            "evidence_type": ["atc", "atc"],
            "evidence_code": ["A10BA", "N02"],
        }
    )
    merged = knowledge.merge("dx_evidence", shipped, dataset)
    e11 = [r for r in merged.to_pylist() if r["diag_prefix"] == "E11"]
    assert [r["evidence_code"] for r in e11] == ["A10BA"]
    e10_before = [r for r in shipped.to_pylist() if r["diag_prefix"] == "E10"]
    assert [r for r in merged.to_pylist() if r["diag_prefix"] == "E10"] == e10_before
    assert merged.num_rows == shipped.num_rows - 4 + 2


def test_exclusive_pairs_match_in_either_order():
    merged = knowledge.effective(
        "diag_exclusive", pa.table({"diag_prefix_a": ["E11"], "diag_prefix_b": ["E10"]})
    )
    pairs = {tuple(sorted(r.values())) for r in merged.to_pylist()}
    assert merged.num_rows == knowledge.shipped("diag_exclusive").num_rows
    assert ("E10", "E11") in pairs


def test_unknown_table_is_refused():
    with pytest.raises(KeyError):
        knowledge.shipped("nope")


def test_longest_prefix_wins():
    con = ibis.duckdb.connect()
    codes = con.create_table(
        "codes",
        pa.table({"setl_id": ["1", "2", "3"], "diag_code": ["J96.000x001", "J96.100", "A00.000"]}),
    )
    k = con.create_table(
        "k",
        pa.table(
            {"diag_prefix": ["J96", "J96.0", "J96.0"], "tag": ["broad", "narrow1", "narrow2"]}
        ),
    )
    out = knowledge.longest_prefix_match(codes, "diag_code", k, "diag_prefix").to_pyarrow()
    got = sorted(zip(out["setl_id"].to_pylist(), out["tag"].to_pylist(), strict=True))
    assert got == [("1", "narrow1"), ("1", "narrow2"), ("2", "broad")]


def test_catalog_override_keeps_shipped_names():
    merged = catalog.effective_hilist(
        pa.table({"hilist_code": ["001102000050000"], "pric_lv3": [12.5]})
    )
    row = [r for r in merged.to_pylist() if r["hilist_code"] == "001102000050000"]
    assert (
        len(row) == 1
        and row[0]["hilist_name"] == "住院诊查费"
        and float(row[0]["pric_lv3"]) == 12.5
    )
    assert merged.num_rows == catalog.shipped_hilist().num_rows
