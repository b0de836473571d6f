"""Every check, table-driven: the clean fixture passes all of them; each case file makes checks fail.

All cases are patched copies of ``cases/base.yaml`` relabelled with a suffix and loaded into one
store, so the whole check library runs once for the module.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from qc_fixture import CASES, load, merged

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.quality.service import run_qc
from huiyan.quality.spec import checks

CASE_FILES = ("completeness", "validity", "logic", "consistency")


def _cases() -> list[dict[str, Any]]:
    out = []
    for f in CASE_FILES:
        for c in yaml.safe_load((CASES / f"{f}.yaml").read_text("utf-8"))["cases"]:
            out.append({**c, "file": f})
    return out


CASES_ALL = _cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    store = Store(Path(tmp_path_factory.mktemp("qc")) / "cases.duckdb")
    load(store, merged(CASES_ALL))
    result = run_qc(store, config.load())
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in result.issues.to_pylist():
        sid = row["setl_id"]
        by_case[sid.split("~", 1)[1] if "~" in sid else "base"].append(row)
    store.close()
    return by_case


def test_clean_fixture_has_no_issue(results: dict[str, Any]) -> None:
    assert results.get("base", []) == []


@pytest.mark.parametrize("i", range(len(CASES_ALL)), ids=[c["name"] for c in CASES_ALL])
def test_case(results: dict[str, Any], i: int) -> None:
    case = CASES_ALL[i]
    rows = results.get(str(i), [])
    fired = {r["check_id"] for r in rows}
    missing = set(case.get("fires", [])) - fired
    assert not missing, f"expected {sorted(missing)} to fire; fired {sorted(fired)}"
    unexpected = set(case.get("silent", [])) & fired
    assert not unexpected, f"expected {sorted(unexpected)} to stay silent"
    if "message" in case:
        assert case["message"] in {r["message"] for r in rows}


def test_every_check_has_a_failing_case() -> None:
    covered = {cid for c in CASES_ALL for cid in c.get("fires", [])}
    uncovered = [c.id for c in checks() if c.id not in covered]
    assert uncovered == []


def test_at_least_100_checks_all_with_policy_basis() -> None:
    specs = checks()
    assert len(specs) >= 100
    assert all(c.basis and c.message and c.name for c in specs)
