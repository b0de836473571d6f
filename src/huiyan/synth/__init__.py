"""The synthetic region (慧眼合成数据): a region-year in the canonical format, with labels.

``generate(out_dir, cases=…, seed=…)`` writes ``medins``, ``hilist``, ``setl_list``,
``diseinfo``, ``oprninfo``, ``feedetail``, ``medrcd`` and ``knowledge/*.csv`` month by month,
and ``labels.csv`` (planted violations, docs/violations.md) in a folder beside the dataset.

Extending: a new clinical parameter goes in ``data/mdc.yaml`` or ``data/region.yaml``; a new
catalog item in ``data/catalog.csv`` (give it a ``role`` and use the role in ``fees.py``); a
new comorbidity with its supporting treatment in ``data/comorbidities.yaml``; a new planted
mechanism is a block in ``plant.py`` (one class per mechanism, never touching another class's
evidence) plus a check in ``tests/synth/test_planted_evidence.py``.
"""

from __future__ import annotations

from huiyan.synth.generate import LABEL_COLUMNS, SynthReport, generate

__all__ = ["LABEL_COLUMNS", "SynthReport", "generate"]
