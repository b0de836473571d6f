"""Front page (medrcd) ↔ settlement list (setl_list) linkage by medical-record number."""

from __future__ import annotations

from huiyan.engine import Store
from huiyan.ingest.report import MedrcdMatch
from huiyan.model.tables import MEDRCD, SETL_LIST


def medrcd_match(store: Store) -> MedrcdMatch | None:
    """Share of settlements whose ``medcasno`` has a front page; ``None`` without front pages."""
    if not store.has(MEDRCD.name) or store.count(MEDRCD.name) == 0:
        return None
    setl = store.ibis_table(SETL_LIST.name)
    pages = store.ibis_table(MEDRCD.name).select("medcasno").distinct()
    matched = setl.semi_join(pages, setl.medcasno == pages.medcasno).count()
    return MedrcdMatch(
        settlements=int(setl.count().to_pyarrow().as_py()),
        matched=int(matched.to_pyarrow().as_py()),
    )
