"""Result tables of the qc step beyond design.md §4 (declared here so column names live in model)."""

from __future__ import annotations

from huiyan.model.fields import Table

QC_TABLES: tuple[Table, ...] = ()
