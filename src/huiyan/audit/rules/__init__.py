"""Rule packs, one sub-package per theme; a pack's modules are imported on first registry use.

To add a rule: write a function in the pack's module of its theme (or a new module), decorate it
with ``@rule(...)`` from ``huiyan.audit.spec`` (or a ``preset`` of its family) under a new
permanent id, declare the parameters it reads (``params={"window_days": int}``), give it a
docstring with ``Policy:`` and ``Flags:`` sections, add the same parameters with their defaults
to ``kb/data/config/audit.yaml`` (registration checks the two agree) and its pass/fail cases to
``tests/audit/cases/<RULE-ID>.yaml``. A new theme is a new sub-package here.
"""

from __future__ import annotations
