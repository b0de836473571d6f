"""Rules declare their parameters; the shipped audit.yaml and a region's overrides must match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from huiyan.audit import engine
from huiyan.audit.inputs import bind, store_source
from huiyan.audit.spec import Params, preset, registry, rule
from huiyan.engine import Store
from huiyan.errors import ConfigurationError
from huiyan.kb import config

from .casefile import CASES, load_case, read

SPLIT = {
    "vola_bhvr_type": "SPLIT",
    "sev_deg": "2",
    "stages": ("post",),
    "amount": "fund_pay",
    "vola_evid": "test",
    "template": "{hits}",
}


def _noop(t: Any, p: Params) -> Any:
    raise AssertionError("never run")


def test_every_rule_declares_exactly_the_parameters_audit_yaml_gives() -> None:
    shipped = config.defaults("audit")["rules"]
    for spec in registry().values():
        assert set(spec.params) == set(shipped[spec.id].get("params") or {}), spec.id


def test_a_misspelt_parameter_fails_at_registration_naming_the_rule() -> None:
    decorate = rule(id="SPLIT-002", name="x", params={"window_day": int}, **SPLIT)
    with pytest.raises(ConfigurationError) as exc:
        decorate(_noop)
    message = str(exc.value)
    assert "SPLIT-002" in message
    assert message.startswith("kb/data/config/audit.yaml rules.SPLIT-002.params")
    assert "unknown parameter window_days" in message  # in audit.yaml, not declared
    assert "missing parameter window_day" in message  # declared, not in audit.yaml


def test_a_rule_without_an_audit_yaml_entry_fails_at_registration() -> None:
    with pytest.raises(ConfigurationError, match="SPLIT-999.*no entry"):
        rule(id="SPLIT-999", name="x", **SPLIT)(_noop)
    assert "SPLIT-999" not in registry()


def test_a_parameter_of_the_wrong_kind_fails_at_registration() -> None:
    with pytest.raises(ConfigurationError, match="SPLIT-002.*window_days"):
        rule(id="SPLIT-002", name="x", params={"window_days": str}, **SPLIT)(_noop)


def test_a_preset_rejects_attributes_rule_does_not_take() -> None:
    with pytest.raises(TypeError, match="severity"):
        preset(severity="1")
    family = preset(**SPLIT)
    assert family.but(sev_deg="1").attrs["sev_deg"] == "1"
    assert family.attrs["sev_deg"] == "2"


def _region(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "huiyan.yaml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def test_an_override_with_an_unknown_or_mistyped_parameter_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="window_dayz"):
        _region(tmp_path, "audit:\n  rules:\n    SPLIT-002: {params: {window_dayz: 3}}\n")
    cfg = _region(tmp_path, "audit:\n  rules:\n    SPLIT-002: {params: {window_days: soon}}\n")
    with pytest.raises(ConfigurationError, match="SPLIT-002.*window_days"):
        engine.rule_config(cfg["audit"], registry()["SPLIT-002"])


def _split_findings(tmp_path: Path, cfg: dict[str, Any], case: str) -> list[str]:
    spec = read(CASES / "SPLIT-002.yaml")["cases"][case]
    with Store(tmp_path / f"{case}.duckdb") as store:
        load_case(store, spec)
        source = store_source(store)
        source.cache = lambda t: t
        result = engine.run(bind(source, cfg), cfg["audit"], stage="post", only=["SPLIT-002"])
    return result.findings.column("setl_id").to_pylist()


def test_a_region_override_changes_what_the_rule_flags(tmp_path: Path) -> None:
    case = "pass_readmitted_after_three_days"
    assert _split_findings(tmp_path, config.load(), case) == []
    wider = _region(tmp_path, "audit:\n  rules:\n    SPLIT-002: {params: {window_days: 3}}\n")
    assert _split_findings(tmp_path, wider, case) == ["S2"]
