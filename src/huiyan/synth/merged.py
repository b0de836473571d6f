"""The knowledge the audit reads: huiyan's shipped tables merged with the dataset's own.

The clean background must satisfy the *effective* tables (``huiyan.kb.knowledge.effective``),
not only the ``knowledge/`` folder the generator writes. ``Knowledge`` wraps those merged
tables as plain rows with the lookups the generator needs. Where audit rules might read a
table two ways (longest prefix only, or every matching prefix; a role or ``any``), the
lookups here take the stricter reading, so a clean case is clean under both.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa

from huiyan.kb import knowledge as kb_knowledge
from huiyan.kb.tablefiles import open_csv_text
from huiyan.model.tables import KNOWLEDGE_TABLES

TABLES = {t.name: t for t in KNOWLEDGE_TABLES}
Evidence = tuple[str, str]  # (evidence_type, evidence_code)
Rows = dict[str, list[tuple[Any, ...]]]


@cache
def static_tables() -> Rows:
    """The catalog-independent tables shipped as ``data/knowledge/<table>.csv``."""
    out: Rows = {}
    folder = resources.files(__package__).joinpath("data/knowledge")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".csv"):
            with open_csv_text(entry) as fh:
                rows = list(csv.reader(fh))
            out[entry.name[:-4]] = [tuple(r) for r in rows[1:]]
    return out


def as_arrow(name: str, rows: list[tuple[Any, ...]]) -> pa.Table:
    """Dataset rows (tuples in model column order, values as text) as a model table."""
    table = TABLES[name]
    cols = {
        c: pa.array([None if r[k] in ("", None) else str(r[k]) for r in rows], pa.string())
        for k, c in enumerate(table.columns)
    }
    return table.conform(pa.table(cols) if rows else table.empty())


def _rows(t: pa.Table) -> list[dict[str, Any]]:
    return t.to_pylist()


@dataclass
class Knowledge:
    """Effective knowledge tables as lists of row dicts (small: a few hundred rows each)."""

    tables: dict[str, list[dict[str, Any]]]

    @classmethod
    def merge(cls, dataset: Rows) -> Knowledge:
        merged = {
            name: _rows(
                kb_knowledge.effective(
                    name, as_arrow(name, dataset[name]) if name in dataset else None
                )
            )
            for name in TABLES
        }
        return cls(merged)

    def dx_groups(self, code: str) -> list[frozenset[Evidence]]:
        """Every (prefix, role) group of ``dx_evidence`` matching ``code``; one line per group."""
        groups: dict[tuple[str, str], set[Evidence]] = {}
        for r in self.tables["dx_evidence"]:
            if code.startswith(r["diag_prefix"]):
                key = (r["diag_prefix"], r["role"] or "any")
                groups.setdefault(key, set()).add((r["evidence_type"], r["evidence_code"]))
        return [frozenset(g) for _, g in sorted(groups.items())]

    def oprn_groups(self, code: str) -> list[frozenset[Evidence]]:
        groups: dict[str, set[Evidence]] = {}
        for r in self.tables["oprn_evidence"]:
            if code.startswith(r["oprn_prefix"]):
                groups.setdefault(r["oprn_prefix"], set()).add(
                    (r["evidence_type"], r["evidence_code"])
                )
        return [frozenset(g) for _, g in sorted(groups.items())]

    def incision(self, code: str) -> tuple[str, int] | None:
        """(class, prophylaxis hours) of the longest matching ``procedure_incision`` prefix."""
        hits = [r for r in self.tables["procedure_incision"] if code.startswith(r["oprn_prefix"])]
        if not hits:
            return None
        best = max(hits, key=lambda r: len(r["oprn_prefix"]))
        return best["incision_class"], int(best["prophylaxis_hours"])

    def has_incision_row(self, code: str) -> bool:
        return any(code.startswith(r["oprn_prefix"]) for r in self.tables["procedure_incision"])

    def diag_restrictions(self, code: str) -> list[dict[str, Any]]:
        return [r for r in self.tables["diag_restriction"] if code.startswith(r["diag_prefix"])]

    def principal_allowed(self, code: str) -> bool:
        return all(str(r["principal_allowed"] or "1") != "0" for r in self.diag_restrictions(code))

    def sex_age(self, code: str) -> tuple[str | None, float, float]:
        """(required sex or None, lowest age, exclusive highest age) over all matching rows."""
        sex, lo, hi = None, 0.0, 200.0
        for r in self.diag_restrictions(code):
            if r["lmt_gend"] in ("1", "2"):
                sex = r["lmt_gend"]
            if r["age_min"] is not None:
                lo = max(lo, float(r["age_min"]))
            if r["age_max"] is not None:
                hi = min(hi, float(r["age_max"]))
        return sex, lo, hi

    def exclusive(self, a: str, b: str) -> bool:
        """Whether codes ``a`` and ``b`` form a ``diag_exclusive`` pair (either order)."""
        for r in self.tables["diag_exclusive"]:
            pa_, pb = r["diag_prefix_a"], r["diag_prefix_b"]
            if (a.startswith(pa_) and b.startswith(pb)) or (a.startswith(pb) and b.startswith(pa_)):
                return True
        return False

    def outpatient_treatable(self, code: str) -> bool:
        return any(code.startswith(r["diag_prefix"]) for r in self.tables["outpatient_treatable"])

    def constrained_items(self) -> set[str]:
        """Item codes some knowledge table constrains (exclusive, bundle, indication)."""
        out = {r["hilist_code"] for r in self.tables["item_exclusive"]}
        out |= {r["hilist_code"] for r in self.tables["exam_indication"]}
        out |= {r["bundle_code"] for r in self.tables["item_bundle"]}
        out |= {r["component_code"] for r in self.tables["item_bundle"]}
        return out
