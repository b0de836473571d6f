"""huiyan (慧眼): DRG/DIP payment and intelligent supervision of the medical-insurance fund.

Layers (docs/design.md §2): ``model`` <- ``kb`` <- steps (ingest, quality, grouping, pricing,
settlement, audit, monitor) <- ``pipeline`` <- interfaces (cli, service, report). Steps talk
to each other only through the tables defined in :mod:`huiyan.model`.
"""

from __future__ import annotations

__version__ = "0.1.0"
