"""Every doctest in the package runs: modules with examples (``>>>``) are found by reading
the sources, so a new example is tested without being listed anywhere."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import huiyan

SRC = Path(huiyan.__file__).parent


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        if ">>> " in path.read_text("utf-8"):
            parts = path.relative_to(SRC.parent).with_suffix("").parts
            names.append(".".join(p for p in parts if p != "__init__"))
    return names


MODULES = _modules_with_examples()


def test_the_package_has_doctests() -> None:
    assert len(MODULES) >= 10, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name}: '>>> ' found but no example collected"
    assert result.failed == 0
