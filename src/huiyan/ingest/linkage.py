"""Links between the ingested tables: front page (medrcd) ↔ settlement list by medical-record
number, settlement list → institution (medins) by institution code."""

from __future__ import annotations

from huiyan.engine import Store
from huiyan.ingest.report import MedrcdMatch
from huiyan.model.tables import MEDINS, MEDRCD, SETL_LIST


def medrcd_match(store: Store) -> MedrcdMatch | None:
    """Share of settlements whose ``medcasno`` has a front page; ``None`` without front pages."""
    if not store.has(MEDRCD.name) or store.count(MEDRCD.name) == 0:
        return None
    setl = store.table(SETL_LIST.name)
    pages = store.table(MEDRCD.name).select("medcasno").distinct()
    matched = setl.semi_join(pages, setl.medcasno == pages.medcasno).count()
    return MedrcdMatch(
        settlements=int(setl.count().to_pyarrow().as_py()),
        matched=int(matched.to_pyarrow().as_py()),
    )


def settlements_without_institution(store: Store) -> int:
    """Settlements whose ``medins_code`` has no row in ``medins`` (all of them without one).

    Their hospital level is unknown, so level prices and level limits cannot be judged and
    the level's payment coefficient is not applied: worth a warning, not a quarantine.
    """
    setl = store.table(SETL_LIST.name)
    if not store.has(MEDINS.name):
        return int(setl.count().to_pyarrow().as_py())
    medins = store.table(MEDINS.name).select("medins_code")
    missing = setl.anti_join(medins, setl.medins_code == medins.medins_code).count()
    return int(missing.to_pyarrow().as_py())
