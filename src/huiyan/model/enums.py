"""Enumerations (code tables of the canonical fields), read from ``data/enums.yaml``."""

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
