"""Knowledge-base restriction tables huiyan derives from the national knowledge points.

Declared here, beside the canonical tables, so that their column names too are defined once.
"""

from __future__ import annotations

from huiyan.model.fields import Table

KB_TABLES: tuple[Table, ...] = ()
