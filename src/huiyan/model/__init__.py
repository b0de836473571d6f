"""Canonical tables, fields and enumerations: the only place a column name is defined.

To add a column, add a ``Field`` to its table in ``tables.py``; to add an enumeration code,
edit ``data/enums.yaml``. Nothing here imports another huiyan package.
"""

from __future__ import annotations

from huiyan.model.enums import codes, enums, label
from huiyan.model.fields import Field, Table
from huiyan.model.tables import TABLES, table

__all__ = ["TABLES", "Field", "Table", "codes", "enums", "label", "table"]
