"""Settlement-list QC (结算清单质控): checks declared as data, run as Ibis expressions.

- ``data/checks.yaml`` declares every check (id, name, category, severity, kind, table,
  field(s), Chinese message with ``{value}``/``{other}``, policy basis, params, source).
- ``kinds.py`` builds the generic kinds (required, codes, dictionary, name_match, pattern,
  range); ``logic/`` holds one function per multi-field check, registered by name.
- ``reference.py`` registers the code tables (ICD-10/ICD-9-CM-3 医保版 2.0, departments,
  nationality, blood unit, sex-specific and not-principal codes) on the backend.
- ``runner.py`` renders messages and collects ``qc_issue``; ``indicators.py`` computes the
  four institution-month indicators; ``service.py`` runs both on an ``Engine``.

To add a check: append an entry to ``data/checks.yaml`` with a new permanent id (a generic
kind needs no code; a logic check also needs a ``@logic("name")`` function in ``logic/``), and
add a failing case to ``tests/quality/cases/<category>.yaml``. The test suite fails for a check
without a failing case. See README.md for the indicator definitions.
"""

from __future__ import annotations
