"""Every rule states the policy it enforces and what it flags , and the
library covers every violation class (two rules at least for each DRG class)."""

from __future__ import annotations

from collections import Counter

import pytest

from huiyan.audit.spec import registry
from huiyan.kb import config
from huiyan.model.enums import codes

DRG_CLASSES = ("UPCODE", "SPLIT", "LOWADM", "UNDERSVC", "DXCODE")


@pytest.mark.parametrize("rule_id", list(registry()))
def test_docstring_has_policy_and_flags(rule_id: str) -> None:
    doc = registry()[rule_id].doc
    assert "Policy:" in doc, f"{rule_id}: docstring lacks a Policy: section"
    assert "Flags:" in doc, f"{rule_id}: docstring lacks a Flags: section"


def test_library_covers_every_class() -> None:
    per_class = Counter(spec.vola_bhvr_type for spec in registry().values())
    assert len(registry()) >= 40
    assert set(codes("vola_bhvr_type")) <= set(per_class)
    assert all(per_class[c] >= 2 for c in DRG_CLASSES), per_class


def test_every_rule_has_configuration() -> None:
    rules = config.load()["audit"]["rules"]
    assert sorted(rules) == sorted(registry())
