"""Rule packs, one sub-package per theme; a pack's modules are imported on first registry use.

To add a rule: write a function in the pack's module of its theme (or a new module), decorate it
with ``@rule(...)`` from ``huiyan.audit.spec`` under a new permanent id, give it a docstring with
``Policy:`` and ``Flags:`` sections, add its parameters to ``kb/data/config/audit.yaml`` and its
pass/fail cases to ``tests/audit/cases/<RULE-ID>.yaml``. A new theme is a new sub-package here.
"""

from __future__ import annotations
