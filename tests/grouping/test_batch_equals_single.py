"""Property: the batch path and the single-case path agree on random cases from the scheme lists."""

from __future__ import annotations

from functools import cache

import pyarrow as pa
import pytest
from grouping_helpers import SCHEMES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huiyan.grouping import Case, group_case, group_table
from huiyan.grouping.compiled import compile_scheme

# odd inputs: empty, unknown, bare asterisk, dagger-asterisk pair, a map target that is no key
JUNK = ["", "X99.999", "G63.2*", "E11.400x024+G63.2*", "A15.100x001"]


@cache
def _pools(scheme: str) -> tuple[list[str], list[str]]:
    """Diagnosis and procedure codes the scheme refers to, plus map keys and chains."""
    cs = compile_scheme(scheme)
    logic = cs.scheme.logic
    dx: set[str] = set()
    px: set[str] = set(cs.code_list("or_procedures")[:3000])
    for name, codes in logic["lists"].items():
        (px if "proc" in name or name.endswith(".ss") else dx).update(codes)
    dx.update(list(cs.scheme.table("mcc"))[:2000])
    dx.update(list(cs.scheme.table("cc"))[:2000])
    chain = [c for c in cs.codes if cs.chain_dx[cs.ids[c]]]
    legacy = [k for k, v in cs.mapping("diagnosis_map").items() if k != v][:1500]
    px_legacy = [k for k, v in cs.mapping("procedure_map").items() if k != v]
    return sorted(dx) + chain + legacy + JUNK, sorted(px) + px_legacy + ["", "99.99"]


# every condition kind and result rule is exercised by these in the default suite (national
# schemes; Zhejiang: dept, retry on failure; Changzhou: discharge way, secondary procedure;
# Yunnan: result codes; Beijing: secondary diagnosis and length of stay); the others are slow
DEFAULT = {
    "chs-drg-1.1", "chs-drg-1.0", "liaocheng-2022", "suzhou-2023", "zhejiang-2022",
    "changzhou-2022", "yunnan-2022", "beijing-2022",
}  # fmt: skip
PARAMS = [s if s in DEFAULT else pytest.param(s, marks=pytest.mark.slow) for s in SCHEMES]


@st.composite
def cases(draw: st.DrawFn, scheme: str) -> list[dict]:
    dx_pool, px_pool = _pools(scheme)
    n = draw(st.integers(1, 12))
    out = []
    for i in range(n):
        age = draw(st.sampled_from([None, 0, 0, 0, 1, 17, 18, 45, 80]))
        out.append(
            {
                "case_id": f"P{i}",
                "gender": draw(st.sampled_from(["1", "2", "1", "2", "", "9", "男", "女"])),
                "age": age,
                "age_days": draw(st.sampled_from([None, 0, 1, 28, 29, 200, 365])),
                "birth_weight": draw(
                    st.sampled_from([None, 0, 999, 1499, 1500, 1999, 2000, 2499, 2500, 3600])
                ),
                "los": draw(st.sampled_from([None, 1, 4, 5, 6, 7, 8, 13, 30])),
                "dept": draw(st.sampled_from([None, "", "ICU", "A05", "icu"])),
                "discharge_way": draw(st.sampled_from([None, "", "1", "2", "5", "9"])),
                "diagnoses": "|".join(
                    [draw(st.sampled_from(JUNK) | st.sampled_from(dx_pool))]
                    + draw(st.lists(st.sampled_from(dx_pool), max_size=7))
                ),
                "procedures": "|".join(draw(st.lists(st.sampled_from(px_pool), max_size=5))),
            }
        )
    return out


def _table(rows: list[dict]) -> pa.Table:
    return pa.table(
        {
            "case_id": [r["case_id"] for r in rows],
            "gender": pa.array([r["gender"] for r in rows], pa.string()),
            **{
                k: pa.array([r[k] for r in rows], pa.int64())
                for k in ("age", "age_days", "birth_weight", "los")
            },
            "dept": pa.array([r["dept"] for r in rows], pa.string()),
            "discharge_way": pa.array([r["discharge_way"] for r in rows], pa.string()),
            "diagnoses": [r["diagnoses"] for r in rows],
            "procedures": [r["procedures"] for r in rows],
        }
    )


@pytest.mark.parametrize("scheme", PARAMS)
@pytest.mark.parametrize("mode", ["raw", "mapped"])
@pytest.mark.parametrize("checked", [False, True])
@settings(
    max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_batch_equals_single(scheme, mode, checked, data):
    rows = data.draw(cases(scheme))
    batch = group_table(_table(rows), scheme, mode=mode, checked=checked).to_pylist()
    for row, b in zip(rows, batch, strict=True):
        s = group_case(Case.from_row(row), scheme, mode=mode, checked=checked)
        assert s.key() == (b["status"], b["mdc"], b["adrg"], b["drg"]), row
        assert (s.has_mcc, s.has_cc) == (b["has_mcc"], b["has_cc"]), row
