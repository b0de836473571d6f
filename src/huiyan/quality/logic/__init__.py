"""Logic and consistency checks that need more than one field: one function per check.

A function takes ``(q: QcInputs, p: dict)`` — the inputs and the ``qc`` parameters merged
with the check's own ``params`` — and returns one Ibis table of failing rows with columns
``setl_id, field, value`` and optionally ``other`` (the value it was compared with).
Register it with ``@logic("name")`` in a module of this package and reference it from
``data/checks.yaml`` as ``kind: logic, params: {fn: name}``.
"""

from __future__ import annotations

from huiyan.quality.logic.registry import LOGIC, logic

__all__ = ["LOGIC", "logic"]
