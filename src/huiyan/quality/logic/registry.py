"""The registry of logic-check functions by name (modules register on import)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.quality.inputs import QcInputs

LogicFn = Callable[["QcInputs", dict[str, Any]], "ir.Table"]
LOGIC: dict[str, LogicFn] = {}
_MODULES = ("stay", "person", "diagnoses", "amounts", "consistency")


def logic(name: str) -> Callable[[LogicFn], LogicFn]:
    def register(fn: LogicFn) -> LogicFn:
        if name in LOGIC:
            raise ValueError(f"logic check {name!r} registered twice")
        LOGIC[name] = fn
        return fn

    return register


def functions() -> dict[str, LogicFn]:
    """Every registered function (importing the modules that define them)."""
    for m in _MODULES:
        importlib.import_module(f"huiyan.quality.logic.{m}")
    return LOGIC
