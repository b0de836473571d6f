"""Knowledge for the real-time path: loaded once, rebuilt when the kb, configuration or store change.

``Knowledge.current()`` returns the auditor and the pricing tables of the present fingerprint
(configuration file, packaged kb files, published snapshot); the fingerprint is checked at most
every ``check_seconds``, and a change builds a new auditor in a background thread while requests
keep using the old one until it is ready (the swap is one assignment).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from huiyan.audit.single import History, MicroBatcher, SingleAuditor
from huiyan.service.realtime import pregroup

log = logging.getLogger(__name__)
# The stored tables read at load: the catalog and institutions, and what pre-grouping reads.
SMALL_TABLES = ("medins", "hilist", *pregroup.PUBLISHED)


def _kb_stamp() -> float:
    import huiyan.kb as kb

    root = Path(kb.__file__).parent / "data"
    latest = 0.0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            latest = max(latest, os.stat(os.path.join(dirpath, f)).st_mtime)
    return latest


@dataclass
class Loaded:
    fingerprint: tuple[Any, ...]
    config: dict[str, dict[str, Any]]
    auditor: SingleAuditor
    tables: dict[str, pa.Table] = field(default_factory=dict)
    # Codes a message may use: the payment scheme's diagnosis and procedure dictionaries and
    # the effective medical-insurance catalog (shipped, overridden by the store's ``hilist``).
    codes: dict[str, frozenset[str]] = field(default_factory=dict)


class Knowledge:
    def __init__(
        self,
        snapshot_path: Any,
        config_file: Path | None = None,
        check_seconds: float = 2.0,
        *,
        warm: bool = False,
    ) -> None:
        self._snapshot_path = snapshot_path  # callable -> Path | None (published snapshot)
        self.config_file = config_file
        self.check_seconds = check_seconds
        # In the server: each load ends ready for requests (``SingleAuditor.warm``, the
        # collector settled); not in tests, which build many knowledge holders.
        self.warm = warm
        self._loaded: Loaded | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None
        self._failed: tuple[Any, ...] | None = None
        self.batcher = MicroBatcher(
            lambda: self.current().auditor, ready=lambda: self._loaded is not None
        )
        self.reloads = 0

    def fingerprint(self) -> tuple[Any, ...]:
        cfg = self.config_file
        cfg_stamp = cfg.stat().st_mtime if cfg is not None and cfg.exists() else None
        snap = self._snapshot_path()
        return (str(cfg), cfg_stamp, _kb_stamp(), str(snap) if snap else None)

    def current(self) -> Loaded:
        """The knowledge in force. A change found on a check is rebuilt in a background thread
        while requests keep being answered with the previous knowledge (a rebuild compiles the
        rule library: seconds); only the very first load is waited for."""
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._checked = time.monotonic()
                    self._loaded = self._load(self.fingerprint())
                    self.reloads += 1
                    self._settle()
                return self._loaded
        if time.monotonic() - self._checked < self.check_seconds:
            return loaded
        with self._lock:
            self._checked = time.monotonic()
            if self._building is not None and self._building.is_alive():
                return loaded
            fp = self.fingerprint()
            if fp != loaded.fingerprint and fp != self._failed:
                self._building = threading.Thread(target=self._rebuild, args=(fp,), daemon=True)
                self._building.start()
        return loaded

    def wait(self, timeout: float | None = None) -> None:
        """Block until a rebuild in progress (if any) has finished."""
        building = self._building
        if building is not None:
            building.join(timeout)

    def _rebuild(self, fp: tuple[Any, ...]) -> None:
        try:
            new = self._load(fp)
        except Exception:  # keep serving with the previous knowledge; retried on the next change
            self._failed = fp
            log.exception("realtime knowledge reload failed (%s)", fp)
            return
        self._loaded = new  # one assignment: a request sees the old or the new, never a mix
        self.reloads += 1
        self._settle()
        log.info("realtime knowledge reloaded (%s)", fp)

    def _settle(self) -> None:
        if self.warm:
            _settle_gc()

    def _load(self, fp: tuple[Any, ...]) -> Loaded:
        from huiyan.kb import config

        cfg = config.load(self.config_file)
        snap = self._snapshot_path()
        tables: dict[str, pa.Table] = {}
        small: dict[str, pa.Table | None] = {}
        if snap is not None and Path(snap).exists():
            from huiyan.engine import Store

            with Store(snap, read_only=True) as store:
                names = set(store.tables())

                def read(name: str) -> pa.Table | None:
                    if name not in small:
                        small[name] = store.read(name) if name in names else None
                    return small[name]

                for name in SMALL_TABLES:
                    t = read(name)
                    if t is not None:
                        tables[name] = t
                auditor = SingleAuditor(
                    cfg, stage="in", stored=read, history=History(_history_reader(snap))
                )
                if self.warm:
                    auditor.warm(_sample(store, names))
        else:
            auditor = SingleAuditor(cfg, stage="in")
            if self.warm:
                auditor.warm()
        if self.warm:
            pregroup.warm(cfg, tables)
        return Loaded(fp, cfg, auditor, tables, _codes(cfg, tables.get("hilist")))


def _sample(store: Any, names: set[str], n: int = 16) -> dict[str, pa.Table] | None:
    """A few stored encounters: what ``SingleAuditor.warm`` runs the rules on."""
    from huiyan.audit.single import ENCOUNTER_TABLES

    if not set(ENCOUNTER_TABLES) <= names:
        return None
    return _encounters(store, store.to_arrow(store.table("setl_list").limit(n)))


def _encounters(store: Any, setl: pa.Table) -> dict[str, pa.Table]:
    """The settlements ``setl`` with their stored diagnoses, operations and fee lines."""
    from huiyan.engine import rows_where

    ids = setl.column("setl_id").to_pylist()
    mids = setl.column("mdtrt_id").to_pylist()
    return {
        "setl_list": setl,
        "diseinfo": rows_where(store, "diseinfo", "setl_id", ids),
        "oprninfo": rows_where(store, "oprninfo", "setl_id", ids),
        "feedetail": rows_where(store, "feedetail", "mdtrt_id", mids),
    }


def _settle_gc() -> None:
    """Move what is alive after a load (the rule graphs, knowledge: ~10^5-10^6 objects) out
    of the collector's reach. A full collection otherwise walks them all every few seconds
    under load, a stall of 100-300 ms that a request waiting on it sees (measured under
    ``benchmarks/realtime.py``). Called once the new knowledge is in force, and unfrozen
    first, so that a reload's discarded auditor (its reference cycles) is collected here
    rather than kept for good: one such stall per reload."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _codes(
    cfg: dict[str, dict[str, Any]], stored_hilist: pa.Table | None
) -> dict[str, frozenset[str]]:
    from huiyan.kb import catalog
    from huiyan.kb.schemes import load_scheme

    scheme = load_scheme(str(cfg.get("grouping", {}).get("payment_scheme", "chs-drg-1.1")))
    hilist = catalog.effective_hilist(stored_hilist)
    return {
        "diag": frozenset(r[0] for r in scheme.rows("diagnoses")),
        "oprn": frozenset(r[0] for r in scheme.rows("procedures")),
        "hilist": frozenset(hilist.column("hilist_code").to_pylist()),
    }


def _history_reader(snap: Path) -> Any:
    """Earlier stays of the given persons from the snapshot (a connection per call: rare)."""

    def read(psn_nos: list[str], exclude: list[str]) -> dict[str, pa.Table]:
        from huiyan.engine import Store, rows_where

        with Store(snap, read_only=True) as store:
            s = rows_where(store, "setl_list", "psn_no", psn_nos, unless=("setl_id", exclude))
            return _encounters(store, s)

    return read
