"""The synthetic region (慧眼合成数据): a region-year in the canonical format, with labels.

``generate(out_dir, cases=…, seed=…)`` writes ``medins``, ``hilist``, ``setl_list``,
``diseinfo``, ``oprninfo``, ``feedetail``, ``medrcd`` and ``knowledge/*.csv`` month by month,
and ``labels.csv`` (planted violations, docs/violations.md) in a folder beside the dataset.

The clean background is clean under the knowledge the audit reads: ``merged.Knowledge`` is
huiyan's shipped knowledge tables merged with the dataset's own (``knowledge.py``,
``data/knowledge/``); ``world.world()`` builds once the catalog and, through
``evidence.Resolver``, the items that prove every diagnosis and procedure a profile can carry
(representative drugs per ATC group in ``data/evidence_drugs.csv``).

Extending: a new clinical parameter goes in ``data/mdc.yaml`` or ``data/region.yaml``; a new
catalog item in ``data/catalog.csv`` (give it a ``role`` and use the role in ``fees.py``); a
new comorbidity with its supporting treatment in ``data/comorbidities.yaml``; a new planted
mechanism is a block in ``plant.py`` (one class per mechanism, never touching another class's
evidence) plus a check in ``tests/synth/test_planted_evidence.py``.
"""

from __future__ import annotations

from huiyan.synth.generate import LABEL_COLUMNS, SynthReport, generate

__all__ = ["LABEL_COLUMNS", "SynthReport", "generate"]
