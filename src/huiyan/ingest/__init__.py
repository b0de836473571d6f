"""Ingestion: a dataset folder (CSV/Parquet/XLSX per table, national interface JSON messages,
an optional ``knowledge/`` folder) into the store, with bad rows quarantined, never dropped.

How it works: a reader (``readers.py``) exposes each file as a view of text columns named
as in the model (header aliases from ``Field.aliases``; CSV encoding detected, GBK transcoded;
lines the store cannot split go to a rejects table). ``checks.stage_sql`` reads that view once
into a typed stage table with each row's first error, generated from the model (types,
required fields, enumerations) and ``data/checks.yaml`` (time order, refund lines, code
columns); orphans and duplicate keys are marked afterwards among the valid rows. ``load.py``
maps the codes (``codemap.py``), writes the failing rows to ``quarantine`` with a reason from
``data/reasons.yaml`` and stores the valid ones: a first load keeps the stage as the table
(rows written once), a later one replaces a key whose content changed. ``run.ingest``
orchestrates, times each phase and asserts read = accepted + quarantined for every file.

To extend: a new column or table is a model change only (readers and checks follow); a new
file format is a ``stage_<fmt>`` function in ``readers.py`` registered in ``READERS`` and
``sources.TABULAR``; a new row check is a branch in ``checks.error_cases`` plus a reason in
``data/reasons.yaml``; scope exclusions live in ``kb/data/config/scope.yaml`` and ``scope.py``.
"""

from __future__ import annotations

from huiyan.ingest.report import IngestReport
from huiyan.ingest.run import ingest

__all__ = ["IngestReport", "ingest"]
