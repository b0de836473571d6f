"""Result tables of the audit step beyond docs/design.md §4 (declared here so column names live in model)."""

from __future__ import annotations

from huiyan.model.fields import Table

AUDIT_TABLES: tuple[Table, ...] = ()
