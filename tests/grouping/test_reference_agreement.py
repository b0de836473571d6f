"""100% agreement with each scheme's sample_cases.csv, both modes, both paths."""

from __future__ import annotations

import pytest
from grouping_helpers import MODES, expected

from huiyan.grouping import Case, group_case, group_table


@pytest.mark.parametrize(("scheme", "mode"), MODES)
def test_batch_path_matches_reference(samples, scheme, mode):
    cases, ref = samples[scheme]
    got = group_table(cases, scheme, mode=mode).to_pylist()
    wrong = [
        (r["case_id"], (g["status"], g["mdc"], g["adrg"], g["drg"]), expected(r, mode))
        for g, r in zip(got, ref, strict=True)
        if (g["status"], g["mdc"], g["adrg"], g["drg"]) != expected(r, mode)
    ]
    assert wrong == []
    assert len(got) == 1000


@pytest.mark.parametrize(("scheme", "mode"), MODES)
def test_single_path_matches_reference(samples, scheme, mode):
    cases, ref = samples[scheme]
    wrong = []
    for row, r in zip(cases.to_pylist(), ref, strict=True):
        res = group_case(Case.from_row(row), scheme, mode=mode)
        if res.key() != expected(r, mode):
            wrong.append((r["case_id"], res.key(), expected(r, mode)))
    assert wrong == []


def test_reference_sample_covers_every_status_family(samples):
    # guards against a silently truncated sample: the files mix successes and failures
    statuses = {r["status"] for _, rows in samples.values() for r in rows}
    assert {"SUCCESS", "FAIL", "CHECK_FAILED", "QY"} <= statuses
