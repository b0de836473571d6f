"""QC checks take parameter overrides the way audit rules do, and state them in their messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from qc_fixture import load, merged

from huiyan.engine import Store
from huiyan.errors import ConfigurationError
from huiyan.kb import config
from huiyan.quality.runner import active_checks
from huiyan.quality.service import run_qc
from huiyan.quality.spec import parse

# A 75-day stay (QC-L003 warns beyond max_los_days) and a 151-year-old (QC-V034: 0-150).
CASES = [
    {"setl": "S1", "patch": [{"table": "setl_list", "set": {"dscg_time": "2024-05-15 10:00:00"}}]},
    {"setl": "S1", "patch": [{"table": "setl_list", "set": {"age": 151}}]},
]


def _region(tmp_path: Path, checks: str) -> dict[str, Any]:
    path = tmp_path / "huiyan.yaml"
    path.write_text(f"qc:\n  checks:\n{checks}", encoding="utf-8")
    return config.load(path)


def _messages(tmp_path: Path, cfg: dict[str, Any]) -> dict[str, list[str]]:
    with Store(tmp_path / "qc.duckdb") as store:
        load(store, merged(CASES))
        issues = run_qc(store, cfg).issues.to_pylist()
    out: dict[str, list[str]] = {}
    for row in issues:
        if row["check_id"] in ("QC-L003", "QC-V034"):
            out.setdefault(row["check_id"], []).append(row["message"])
    return out


def test_messages_state_the_parameters_and_an_override_changes_both(tmp_path: Path) -> None:
    shipped = _messages(tmp_path, config.load())
    assert shipped == {
        "QC-L003": ["住院75天，超过60天，请核实"],
        "QC-V034": ["【年龄】151岁，不在0-150岁范围内"],
    }
    cfg = _region(
        tmp_path,
        "    QC-L003: {params: {max_los_days: 30}}\n    QC-V034: {params: {max: 200}}\n",
    )
    assert _messages(tmp_path, cfg) == {"QC-L003": ["住院75天，超过30天，请核实"]}


def test_an_override_applies_to_its_check_only(tmp_path: Path) -> None:
    cfg = _region(tmp_path, "    QC-L003: {params: {amount_tolerance: 5}}\n")
    by_id = {c.id: c for c in active_checks(cfg["qc"])}
    assert by_id["QC-L003"].params["amount_tolerance"] == 5
    assert "amount_tolerance" not in by_id["QC-L004"].params


@pytest.mark.parametrize(
    ("override", "match"),
    [
        (
            "    QC-V034: {params: {maximum: 200}}\n",
            r"QC-V034\.params.*maximum.*known:.* max, .*min",
        ),
        ("    QC-L003: {params: {fn: stay_too_short}}\n", r"QC-L003\.params.*fn"),
        ("    QC-L003: {threshold: 3}\n", r"QC-L003.*threshold"),
    ],
)
def test_an_unknown_override_names_the_check(tmp_path: Path, override: str, match: str) -> None:
    cfg = _region(tmp_path, override)
    with pytest.raises(ConfigurationError, match=match):
        active_checks(cfg["qc"])


def test_a_message_placeholder_must_be_a_column_or_a_parameter() -> None:
    raw = {
        "id": "QC-X001",
        "name": "x",
        "category": "validity",
        "severity": "error",
        "kind": "range",
        "field": "age",
        "message": "【年龄】{value}超过{maximum}",
        "basis": "test",
        "params": {"min": 0, "max": 150},
    }
    with pytest.raises(ConfigurationError, match=r"QC-X001.*\{maximum\}"):
        parse([raw], "test.yaml")
