"""Enumerations (code tables of the canonical fields), read from ``data/enums.yaml``, and the
other values accepted for them (``data/enum_aliases.yaml``)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml


@cache
def enums() -> dict[str, dict[str, str]]:
    """Every enumeration: name -> {code: Chinese label}."""
    text = resources.files(__package__).joinpath("data/enums.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    return {name: {str(k): str(v) for k, v in codes.items()} for name, codes in raw.items()}


def codes(name: str) -> frozenset[str]:
    """The valid codes of enumeration ``name``."""
    return frozenset(enums()[name])


def label(name: str, code: str | None) -> str:
    """The Chinese label of ``code`` in enumeration ``name`` (the code itself when unknown)."""
    if code is None:
        return ""
    return enums()[name].get(code, code)


@cache
def aliases(name: str) -> dict[str, str]:
    """Values that stand for a code of enumeration ``name`` (alias -> code): each code's label
    (when no other code has the same one) and the aliases of ``data/enum_aliases.yaml``."""
    table = enums()[name]
    labels = list(table.values())
    out = {v: k for k, v in table.items() if labels.count(v) == 1 and v not in table}
    text = resources.files(__package__).joinpath("data/enum_aliases.yaml").read_text("utf-8")
    declared = (yaml.safe_load(text) or {}).get(name) or {}
    for alias, code in declared.items():
        if str(code) not in table:
            raise ValueError(f"enum_aliases.yaml: {name}.{alias} names unknown code {code}")
        out[str(alias)] = str(code)
    return out
