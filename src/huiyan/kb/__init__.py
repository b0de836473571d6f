"""Knowledge base: versioned reference data (``data/``) with typed access as Arrow tables.

- ``restrictions``: national two-libraries knowledge points → ``item_restriction``,
  ``dup_charge_pair``, ``surgery_discount``; ``from_hilist`` / ``effective_item_restrictions``.
- ``knowledge``: shipped defaults of the §3 knowledge tables, ``merge``/``effective``,
  ``longest_prefix_match``. ``catalog``: the default ``hilist``. ``manifest``: versions, checksums.

To extend: add a data folder under ``data/`` with its own ``manifest.yaml`` and refresh its
checksums (``python -m huiyan.kb.build.manifest FOLDER``); add knowledge rows to
``data/knowledge/<table>.csv`` (codes must exist: the tests check); load a newer NHSA batch as a
new ``data/lk/<version>/`` folder and point ``lk.LK_VERSION`` at it; regenerate the catalog
with ``python -m huiyan.kb.build.catalog``.
"""

from __future__ import annotations
