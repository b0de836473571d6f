"""Parameters: every threshold and method in one place, with the common defaults.

Defaults ship as ``data/config/<section>.yaml`` (one file per step: ``scope``, ``grouping``, ``qc``,
``payment``, ``settlement``, ``audit``, ``monitor``). A region overrides any of them in one
YAML file of its own (``huiyan.yaml``) with the same sections at the top level::

    payment:
      drg:
        high_multiple: {"3": 3.0, "2": 2.0, "1": 2.0}
    audit:
      rules:
        SPLIT-001: {params: {window_days: 15}}
        DUPCHG-003: {enabled: false}

Overrides are merged key by key into the defaults; an unknown section or key is an error, so
a misspelt parameter never silently falls back to its default.
"""

from __future__ import annotations

from copy import deepcopy
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from huiyan.errors import ConfigurationError

SECTIONS = ("ingest", "scope", "grouping", "qc", "payment", "settlement", "audit", "monitor")


class ConfigError(ConfigurationError):
    """A configuration file names a section or key huiyan does not know."""


@cache
def _defaults(section: str) -> dict[str, Any]:
    path = resources.files("huiyan.kb").joinpath(f"data/config/{section}.yaml")
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text("utf-8")) or {}


def defaults(section: str) -> dict[str, Any]:
    """A fresh copy of the shipped defaults of ``section``."""
    if section not in SECTIONS:
        raise ConfigError(
            f"unknown configuration section {section!r}; known: {', '.join(SECTIONS)}"
        )
    return deepcopy(_defaults(section))


def _merge(base: dict[str, Any], override: dict[str, Any], where: str, *, open_keys: bool) -> None:
    for key, value in override.items():
        if key not in base and not open_keys:
            raise ConfigError(f"{where}: unknown key {key!r}")
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            # Rule-by-rule and level-by-level maps may gain entries the defaults do not list.
            _merge(base[key], value, f"{where}.{key}", open_keys=key in _OPEN_MAPS)
        else:
            base[key] = value


# Maps keyed by ids (rules, levels, checks) may name entries the defaults do not list.
_OPEN_MAPS = frozenset(
    {"rules", "checks", "levels", "high_multiple", "low_multiple", "coefficients"}
)


def load(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """All sections: the defaults, overridden by the YAML file at ``path`` if given."""
    config = {section: defaults(section) for section in SECTIONS}
    if path is None:
        return config
    p = Path(path)
    try:
        override = yaml.safe_load(p.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: cannot read configuration: {exc}") from exc
    for section, values in override.items():
        if section not in SECTIONS:
            raise ConfigError(f"{p}: unknown section {section!r}; known: {', '.join(SECTIONS)}")
        if not isinstance(values, dict):
            raise ConfigError(f"{p}: section {section!r} must be a mapping")
        _merge(config[section], values, f"{p}:{section}", open_keys=False)
    return config
