"""Pieces of the interpreter on hand-made cases with real codes."""

from __future__ import annotations

import pyarrow as pa
import pytest

from huiyan.errors import ConfigurationError
from huiyan.grouping import Case, group_case, group_table
from huiyan.grouping.compiled import compile_scheme
from huiyan.grouping.conditions import CaseView, describe, evaluate_one, validate
from huiyan.grouping.mapping import translate
from huiyan.grouping.result import classify

SCHEME = "chs-drg-1.1"


def _chain() -> tuple[str, str, str]:
    """A real map chain A -> B -> C of the national diagnosis map."""
    m = compile_scheme(SCHEME).mapping("diagnosis_map")
    for a, b in m.items():
        if a != b and b in m and m[b] != b:
            return a, b, m[b]
    raise AssertionError("the national map has chains (README)")


def test_mapping_follows_first_occurrence_rule_of_reference():
    a, b, c = _chain()
    m = compile_scheme(SCHEME).mapping("diagnosis_map")
    assert translate([a, b], m) == [c, b]  # not the element-wise [b, c]
    assert translate([b, a], m) == [c, b]
    assert translate(["no-such-code"], m) is None


def test_batch_and_single_agree_on_chain_case():
    a, b, _ = _chain()
    case = Case("c1", "1", 50, None, None, (a, b, "I10.x00"), ())
    table = pa.table(
        {
            "case_id": ["c1"],
            "gender": ["1"],
            "age": [50],
            "age_days": pa.array([None], pa.int64()),
            "birth_weight": pa.array([None], pa.int64()),
            "diagnoses": [f"{a}|{b}|I10.x00"],
            "procedures": [""],
        }
    )
    batch = group_table(table, SCHEME, mode="mapped").to_pylist()[0]
    single = group_case(case, SCHEME, mode="mapped")
    assert single.key() == (batch["status"], batch["mdc"], batch["adrg"], batch["drg"])
    assert any("编码转换" in line for line in single.trace)


def test_classify_follows_readme_result_rules():
    assert classify("0000") == ("FAIL", "0000", "00", "0000")
    assert classify("JR2A") == ("SUCCESS", "MDCJ", "JR2", "JR2A")
    assert classify("BE1") == ("SUCCESS", "MDCB", "BE1", "BE1")
    assert classify("GQY") == ("QY", "MDCG", "QY", "GQY")
    assert classify("B001") == ("FAIL", "MDCB", "00", "B001")


def test_numeric_atoms_are_false_when_missing_and_weight_zero_is_missing():
    cs = compile_scheme(SCHEME)
    view = CaseView(
        ["P07.100"],
        [],
        "1",
        {"age": 0, "age_days": None, "birth_weight": None, "los": 3},
        has_mcc=False,
        has_cc=False,
    )
    assert evaluate_one({"age_eq": 0}, view, cs)
    assert not evaluate_one({"age_days_le": 28}, view, cs)
    assert not evaluate_one({"age_days_ne": 5}, view, cs)  # missing is false even for ne
    assert not evaluate_one({"birth_weight_lt": 1500}, view, cs)
    assert evaluate_one({"los_le": 7}, view, cs)


def test_unknown_atom_is_rejected():
    with pytest.raises(ConfigurationError, match="weight_kg"):
        validate({"weight_kg": 3}, compile_scheme(SCHEME))


def test_every_scheme_condition_is_known_and_described():
    cs = compile_scheme("liaocheng-2022")
    for mdc in cs.scheme.logic["mdcs"]:
        validate(mdc["entry"], cs)
        for step in mdc["steps"]:
            validate(step["condition"], cs)
            for drg in step.get("drgs", []):
                validate(drg["condition"], cs)
    assert describe({"los_le": 7}) == "住院天数 ≤ 7"


def test_excluded_complication_is_explained():
    cs = compile_scheme(SCHEME)
    mcc = cs.scheme.table("mcc")
    excl = cs.scheme.table("cc_exclusion")
    principal, table = next((p, t) for p, t in excl.items() if t in set(mcc.values()))
    secondary = next(c for c, t in mcc.items() if t == table)
    res = group_case(Case("x", "1", 60, None, None, (principal, secondary)), SCHEME)
    assert res.has_mcc is False
    assert any(secondary in line and "被排除" in line for line in res.trace)


def test_trace_names_mdc_adrg_and_drg():
    res = group_case(Case("x", "1", 60, None, None, ("D09.302", "I24.000x004"), ()), SCHEME)
    joined = "\n".join(res.trace)
    assert res.key() == ("SUCCESS", "MDCK", "KR1", "KR19")  # sample case S000002
    assert f"进入 {res.mdc}" in joined
    assert f"ADRG {res.adrg}" in joined
    assert f"DRG {res.drg}" in joined
