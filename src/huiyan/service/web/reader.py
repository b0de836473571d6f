"""Read access to the result store for the dashboard, cached per store snapshot.

The store file is attached read-only to an in-memory local store. On first use of a
snapshot (identified by the file's inode, size and modification time: a new store is
published by replacing the file, as the pipeline cannot write a file the service has open) one per-case table ``cube``
is built in memory (settlement + payment + scope), and the per-institution-month aggregate
``cube_m`` from it: the overview, institution and group pages read those instead of joining
the million-row tables on every view. Each query result is then kept until the file changes,
so a warm view is a dictionary look-up.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huiyan.engine import local


@dataclass(frozen=True)
class Snapshot:
    """One state of the store file: what the caches are keyed by."""

    path: Path
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Snapshot:
        st = path.stat()
        return cls(path, st.st_ino, st.st_size, st.st_mtime_ns)


class StoreMissing(RuntimeError):
    """The store file does not exist (the pipeline has not run yet)."""


@dataclass(frozen=True)
class _Open:
    snapshot: Snapshot
    con: local.Connection
    tables: frozenset[str]


class Reader:
    """Cached, thread-safe queries over one store file (see module docstring).

    With ``background=True`` a new snapshot is prepared in a thread while pages keep being
    served from the previous one, so no viewer waits for the aggregates of a new store.
    """

    def __init__(
        self,
        source: str | Path | Callable[[], Path | None],
        *,
        method: str = "DRG",
        max_entries: int = 1024,
        background: bool = False,
    ) -> None:
        # A path, or a callable giving the current snapshot's path (the service publishes
        # copies of the store; the dashboard follows whichever is current).
        self._source = source
        self.method = method
        self.max_entries = max_entries
        self.background = background
        self._lock = threading.RLock()
        self._open: _Open | None = None
        self._building: Snapshot | None = None
        self._retired: list[tuple[threading.Timer, local.Connection]] = []
        self._cache: OrderedDict[tuple, Any] = OrderedDict()

    # ------------------------------------------------------------------ snapshot
    @property
    def path(self) -> Path | None:
        src = self._source
        return Path(src) if isinstance(src, str | Path) else src()

    def _current(self) -> _Open:
        path = self.path
        if path is None or not path.exists():
            if self._open is not None:
                return self._open  # keep serving the last snapshot
            raise StoreMissing("结果库尚未发布, 请先运行 huiyan run")
        snap = Snapshot.of(path)
        with self._lock:
            cur = self._open
            if cur is not None and cur.snapshot == snap:
                return cur
            # The store attaches a path once per process: a file replaced in place is reopened
            # synchronously; a new snapshot file can be prepared beside the current one.
            if cur is not None and self.background and cur.snapshot.path != snap.path:
                if self._building != snap:
                    self._building = snap
                    threading.Thread(target=self._swap, args=(snap,), daemon=True).start()
                return cur
            self._swap(snap)
            assert self._open is not None
            return self._open

    def _swap(self, snap: Snapshot) -> None:
        if self._open is not None and self._open.snapshot.path == snap.path:
            with self._lock:
                self._open.con.close()
                self._open = None
        new = _prepare(snap, self.method)
        with self._lock:
            old, self._open = self._open, new
            if self._building == snap:
                self._building = None
            self._cache.clear()
        if old is not None:
            # A request may still be reading through a cursor of the old connection.
            t = threading.Timer(60.0, old.con.close)
            t.daemon = True
            t.start()
            with self._lock:
                self._retired = [(x, c) for x, c in self._retired if x.is_alive()]
                self._retired.append((t, old.con))

    def warm(self) -> None:
        """Open the current snapshot and build its aggregates now (e.g. right after publishing)."""
        self._current()

    @property
    def snapshot(self) -> Snapshot:
        return self._current().snapshot

    def has(self, table: str) -> bool:
        return table in self._current().tables

    # ------------------------------------------------------------------ queries
    def get(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(con, *args)`` for the current snapshot, computed once per snapshot and args."""
        cur = self._current()
        key = (cur.snapshot, fn.__module__, fn.__qualname__, args)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = fn(Query(cur.con.cursor(), cur.tables, self.method), *args)
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return value

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` kept for the current snapshot under ``key`` (e.g. a built workbook)."""
        full = (self._current().snapshot, "memo", key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
        value = compute()
        with self._lock:
            self._cache[full] = value
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return value

    def fresh(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(con, *args)`` without the cache (for rows that change between snapshots)."""
        cur = self._current()
        return fn(Query(cur.con.cursor(), cur.tables, self.method), *args)

    def close(self) -> None:
        with self._lock:
            if self._open is not None:
                self._open.con.close()
            for timer, con in self._retired:
                timer.cancel()
                con.close()
            self._open, self._retired = None, []
            self._cache.clear()


@dataclass
class Query:
    """What a query function receives: a cursor, the stored tables, the payment method."""

    cur: local.Connection
    tables: frozenset[str]
    method: str

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        rel = self.cur.execute(sql, params or [])
        cols = [d[0] for d in rel.description]
        return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]

    def one(self, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
        rows = self.rows(sql, params)
        return rows[0] if rows else {}

    def has(self, *tables: str) -> bool:
        return all(t in self.tables for t in tables)


def _prepare(snap: Snapshot, method: str) -> _Open:
    con = local.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"ATTACH '{snap.path.as_posix()}' AS s (READ_ONLY)")
    tables = frozenset(
        r[0]
        for r in con.sql(
            "select table_name from information_schema.tables where table_catalog = 's'"
        ).fetchall()
    )
    _build_cube(con, tables, method)
    return _Open(snap, con, tables)


def _build_cube(con: local.Connection, tables: frozenset[str], method: str) -> None:
    """Per-case and per-institution-month tables in memory (see module docstring)."""
    if "setl_list" not in tables:
        con.execute(
            "create table cube (setl_id varchar, medins_code varchar, month varchar, "
            "cost decimal(18,2), fund decimal(18,2), los integer, grp varchar, weight double, "
            "std decimal(18,2), diff decimal(18,2), case_type varchar, in_scope boolean)"
        )
    else:
        pay = (
            'left join (select setl_id, "group" as grp, weight_or_score, standard_payment, '
            "difference, case_type from s.payment where method = ?) p using (setl_id)"
            if "payment" in tables
            else "left join (select null::varchar setl_id, null::varchar grp, null::double "
            "weight_or_score, null::decimal(18,2) standard_payment, null::decimal(18,2) "
            "difference, null::varchar case_type) p using (setl_id)"
        )
        scope = (
            "left join (select setl_id, in_scope from s.case_scope) c using (setl_id)"
            if "case_scope" in tables
            else "left join (select null::varchar setl_id, true in_scope) c using (setl_id)"
        )
        con.execute(
            f"""create table cube as
            select setl_id, l.medins_code, strftime(l.dscg_time, '%Y-%m') as month,
                   l.medfee_sumamt::decimal(18,2) as cost,
                   coalesce(l.fund_pay_sumamt, l.hifp_pay, 0)::decimal(18,2) as fund,
                   coalesce(l.act_ipt_days, date_diff('day', l.adm_time::date, l.dscg_time::date))
                       as los,
                   p.grp, p.weight_or_score as weight, p.standard_payment::decimal(18,2) as std,
                   p.difference::decimal(18,2) as diff, p.case_type,
                   coalesce(c.in_scope, true) as in_scope
            from s.setl_list l {pay} {scope}""",
            [method] if "payment" in tables else [],
        )
    # Group norms (region-wide mean cost and stay per group) for the cost and time indices.
    con.execute(
        """create table grp_norm as
        select grp, avg(cost)::double as norm_cost, avg(los)::double as norm_los, count(*) as n
        from cube where grp is not null and weight is not null group by grp"""
    )
    con.execute(
        """create table cube_m as
        select c.medins_code, c.month, count(*) as cases, sum(c.cost) as cost, sum(c.fund) as fund,
               sum(c.los) as los, sum(c.std) as std, sum(c.diff) as diff,
               count(c.weight) as grouped, sum(c.weight) as weight,
               sum(case when c.weight is not null then c.cost end) as g_cost,
               sum(case when c.weight is not null then c.los end) as g_los,
               sum(n.norm_cost) as norm_cost, sum(n.norm_los) as norm_los
        from cube c left join grp_norm n on n.grp = c.grp and c.weight is not null
        group by all"""
    )
