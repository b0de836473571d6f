"""Intelligent audit (智能审核): a rule library over the knowledge base, run as Ibis expressions.

Layout:

- ``spec.py`` — ``@rule(...)`` metadata (id, Chinese name, class ``vola_bhvr_type``, severity
  ``sev_deg``, stages, amount method, policy basis ``vola_evid``, finding-text template) and the
  registry by permanent id; rule packs import lazily on first use of ``registry()``;
- ``inputs.py`` — the one binding module: store tables, the effective catalog, knowledge and
  restriction tables, refund-netted fee lines (``netting.py``) and group norms → ``RuleInputs``;
- ``rules/<theme>/*.py`` — the rules, one small pure function each returning hit rows
  (``setl_id, unit, amount, text``); ``helpers.py`` holds shared Ibis building blocks;
- ``engine.py`` + ``findings.py`` — run the enabled rules of a stage and assemble the ``finding``
  table (one row per rule and settlement, deterministic ``jr_id``);
- ``evaluate.py`` — per-class precision / recall / F1 against a synthetic region's labels;
- ``api.py`` — ``audit_store``, ``catalog``, ``evaluate_store`` for the CLI and the service.

To add a rule: pick a permanent id ``<CLASS>-<NNN>`` never used before, write the function in
the module of its theme under ``rules/`` with ``@rule(...)`` and a docstring with ``Policy:`` and
``Flags:`` (and ``Does not flag:``) sections, put its parameters with defaults under
``audit.rules.<ID>`` in ``kb/data/config/audit.yaml``, and add ``tests/audit/cases/<ID>.yaml``
with at least one ``pass_*`` and one ``fail_*`` case. Regions switch rules off or change
parameters in their own ``huiyan.yaml`` (``audit: {rules: {<ID>: {enabled: false}}}``).
Rules use only portable Ibis operations so that the same library runs on every engine.
"""

from __future__ import annotations
