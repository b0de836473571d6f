"""Published snapshots of the analytic store.

The store lets one process write a file and nobody else open it meanwhile, so the service never
reads the pipeline's store directly: when the store changed and no writer holds it, a copy is
published (``snap-<stamp>`` store files plus a ``current`` pointer) and every worker switches to it.
A ``huiyan run`` in progress is never blocked for longer than the copy; reviewers keep the last
complete batch until the next one is published.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huiyan.engine import local

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    name: str
    path: Path
    stamp: str  # source mtime_ns-size when copied


def _stamp(path: Path) -> str | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    wal = path.with_name(path.name + ".wal")
    extra = wal.stat().st_mtime_ns if wal.exists() else 0
    return f"{st.st_mtime_ns}-{st.st_size}-{extra}"


class SnapshotStore:
    def __init__(self, source: Path, directory: Path) -> None:
        self.source = Path(source)
        self.directory = Path(directory)
        self._snapshot: Snapshot | None = None
        self._con: local.Connection | None = None
        self._local = threading.local()
        self._swap = threading.Lock()
        self._cursors: list[local.Connection] = []
        # Connections replaced by a newer snapshot, closed one swap later (a request may still
        # be reading from one when the swap happens).
        self._retired: list[tuple[local.Connection, list[local.Connection]]] = []

    # ------------------------------------------------------------------ publishing
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _pointer(self) -> dict[str, str] | None:
        p = self.directory / "current"
        try:
            return json.loads(p.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def publish(self) -> tuple[Snapshot | None, bool]:
        """Publish the store if it changed since the last snapshot.

        Returns (current snapshot, whether this call published a new one). When a writer holds
        the store, nothing is published and the previous snapshot stays current.
        """
        with self._locked():
            ptr = self._pointer()
            stamp = _stamp(self.source)
            if stamp is None:
                return self._from_pointer(ptr), False
            if ptr and ptr.get("stamp") == stamp:
                return self._from_pointer(ptr), False
            try:
                # A read-only open fails while a writer holds the file: then the store is
                # mid-run and we keep serving the previous snapshot.
                probe = local.connect(str(self.source), read_only=True)
            except local.Error as exc:
                log.info("store busy, keeping the current snapshot: %s", exc)
                return self._from_pointer(ptr), False
            try:
                name = f"snap-{stamp}"
                target = self.directory / f"{name}{local.SUFFIX}"
                tmp = target.with_name(target.name + ".part")
                shutil.copyfile(self.source, tmp)
                wal = self.source.with_name(self.source.name + ".wal")
                if wal.exists():
                    shutil.copyfile(wal, tmp.with_name(tmp.name + ".wal"))
            finally:
                probe.close()
            if tmp.with_name(tmp.name + ".wal").exists():
                os.replace(tmp.with_name(tmp.name + ".wal"), target.with_name(target.name + ".wal"))
            os.replace(tmp, target)
            new = {"name": name, "stamp": stamp}
            ptmp = self.directory / "current.part"
            ptmp.write_text(json.dumps(new))
            os.replace(ptmp, self.directory / "current")
            self._prune(keep={name, (ptr or {}).get("name", "")})
            return self._from_pointer(new), True

    def _from_pointer(self, ptr: dict[str, str] | None) -> Snapshot | None:
        if not ptr:
            return None
        path = self.directory / f"{ptr['name']}{local.SUFFIX}"
        return Snapshot(ptr["name"], path, ptr["stamp"]) if path.exists() else None

    def _prune(self, keep: set[str]) -> None:
        for p in self.directory.glob(f"snap-*{local.SUFFIX}*"):
            if p.name.split(local.SUFFIX)[0] not in keep and not p.name.endswith(".part"):
                p.unlink(missing_ok=True)

    # ------------------------------------------------------------------ reading
    def refresh(self) -> bool:
        """Publish if needed and switch this process to the current snapshot; True if switched."""
        snap, _ = self.publish()
        if snap is None or (self._snapshot and snap.name == self._snapshot.name):
            return False
        con = local.connect(str(snap.path), read_only=True)
        con.execute("SET enable_progress_bar = false")
        with self._swap:
            for old_con, old_cursors in self._retired:
                _close(old_con, old_cursors)
            self._retired = [(self._con, self._cursors)] if self._con is not None else []
            self._con, self._snapshot, self._cursors = con, snap, []
            self._local = threading.local()
        return True

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def _cursor(self) -> local.Connection | None:
        local = self._local
        cur = getattr(local, "cursor", None)
        if cur is None:
            with self._swap:
                if self._con is None:
                    return None
                cur = self._con.cursor()
                self._cursors.append(cur)
                local = self._local
            local.cursor = cur
        return cur

    def has(self, table: str) -> bool:
        cur = self._cursor()
        if cur is None:
            return False
        row = cur.execute(
            "select count(*) from information_schema.tables where table_name = ?", [table]
        ).fetchone()
        return bool(row and row[0])

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a query on the current snapshot (empty when nothing is published yet)."""
        cur = self._cursor()
        if cur is None:
            return []
        rel = cur.execute(sql, params or [])
        cols = [d[0] for d in rel.description]
        return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]

    def close(self) -> None:
        with self._swap:
            for old_con, old_cursors in self._retired:
                _close(old_con, old_cursors)
            if self._con is not None:
                _close(self._con, self._cursors)
            self._con, self._cursors, self._retired = None, [], []
            self._local = threading.local()


def _close(con: local.Connection, cursors: list[local.Connection]) -> None:
    for c in cursors:
        c.close()
    con.close()
