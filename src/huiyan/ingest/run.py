"""``ingest(data_dir, store, config)``: one dataset folder into the store, bad rows quarantined."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from huiyan.engine import Store, local
from huiyan.engine.store import storage_error
from huiyan.errors import InputError
from huiyan.ingest import messages
from huiyan.ingest.checks import (
    duplicate_hashes_sql,
    duplicate_keys_sql,
    mark_duplicates_sql,
    orphans_sql,
    scan_order_kept,
    stage_sql,
    truncated_sql,
)
from huiyan.ingest.codemap import CODEMAP
from huiyan.ingest.encoding import FileScan, scan
from huiyan.ingest.header import map_header
from huiyan.ingest.load import (
    HASHES,
    SCRATCH,
    STAGE,
    apply_codemap,
    errors,
    load_accepted,
    quarantine,
)
from huiyan.ingest.readers import (
    ARROW,
    RAW,
    READERS,
    REJECTS,
    SHIFT,
    Staged,
    finish,
    stage_arrow,
    temp_dir,
)
from huiyan.ingest.report import FileResult, IngestReport
from huiyan.ingest.rules import checks
from huiyan.ingest.sources import Source, discover
from huiyan.model import Table, table
from huiyan.model.tables import INGEST_BATCH, KNOWLEDGE_TABLES, SETL_LIST

log = logging.getLogger(__name__)

Tick = Callable[[str], None]

# The store's memory limit during an ingest. The load streams files into the store and needs
# little working memory, but the store's buffer cache would grow towards its default (80% of RAM:
# 8.8 GiB measured on 30M fee lines); beyond this, the store spills to its temporary directory
# (``<store>.tmp`` next to the store file). Restored afterwards: later steps choose their own.
MEMORY_LIMIT = os.environ.get("HUIYAN_INGEST_MEMORY_LIMIT", "3GB")


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def _scan(path: Path, fmt: str) -> FileScan:
    # Text files are checked for their encoding and line ends in the same pass as the hash.
    try:
        return scan(path) if fmt == "csv" else FileScan(file_hash(path))
    except OSError as exc:
        raise InputError(f"{path}: 无法读取文件 / cannot read the file: {exc.strerror}") from exc


@dataclass
class _Unit:
    """One (table, file) to load, with the function that stages it.

    ``digest`` is computed by a background thread for table files (hashing a multi-GB CSV
    costs seconds; it overlaps with loading the files before it) and is ready at once for
    messages, which are parsed whole anyway.
    """

    table: str
    source: Source
    digest: Future[FileScan]
    stage: Callable[[Path, FileScan], Staged]
    order: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return self.digest.result().sha256


def _done(value: FileScan) -> Future[FileScan]:
    f: Future[FileScan] = Future()
    f.set_result(value)
    return f


def _order(name: str) -> int:
    order = checks()["load_order"]
    knowledge = [t.name for t in KNOWLEDGE_TABLES]
    return order.index(name) if name in order else len(order) + knowledge.index(name)


def _seen_hashes(store: Store) -> set[tuple[str, str]]:
    if not store.has(INGEST_BATCH.name):
        return set()
    return {
        (r[0], r[1])
        for r in store.con.sql("SELECT table_name, content_hash FROM ingest_batch").fetchall()
    }


def _units(
    store: Store,
    sources: list[Source],
    report: IngestReport,
    seen: set[tuple[str, str]],
    pool: ThreadPoolExecutor,
) -> list[_Unit]:
    """The units in load order; table files are hashed by ``pool`` (skipped later if seen)."""
    units: list[_Unit] = []
    for src in sources:
        if src.table is not None:
            reader = READERS[src.fmt]
            t = table(src.table)
            units.append(
                _Unit(
                    src.table,
                    src,
                    Future(),
                    partial(reader, store.con, src.path, t),
                )
            )
            continue
        try:
            digest = file_hash(src.path)
            rows, bad = messages.parse(src.path)
        except OSError as exc:
            raise InputError(f"{src.path}: 无法读取文件 / cannot read: {exc.strerror}") from exc
        if bad:
            rows.setdefault(SETL_LIST.name, [])
        tables = [n for n in rows if (n, digest) not in seen]
        if not tables:
            report.skipped_files.append(str(src.path))
        for name in tables:
            bad_here = bad if name == SETL_LIST.name else []
            units.append(
                _Unit(
                    name,
                    src,
                    _done(FileScan(digest)),
                    _message_stage(store, src, name, rows[name], bad_here),
                )
            )
    for u in units:
        u.order = _order(u.table)
    units.sort(key=lambda u: (u.order, str(u.source.path)))
    for u in units:  # hashed in load order, so the first file's hash is needed first
        if u.source.table is not None:
            u.digest = pool.submit(_scan, u.source.path, u.source.fmt)
    return units


def _message_stage(
    store: Store,
    src: Source,
    name: str,
    rows: list[dict[str, str | None]],
    bad: list[tuple[int, str, str]],
) -> Callable[[Path, FileScan], Staged]:
    """The stage function of one message table: the rows are parsed already, so neither the
    temporary folder nor the file scan is needed."""
    return lambda _tmp, _found: _stage_message(store, src, name, rows, bad)


def _stage_message(
    store: Store,
    src: Source,
    name: str,
    rows: list[dict[str, str | None]],
    bad: list[tuple[int, str, str]],
) -> Staged:
    t = table(name)
    data = messages.to_arrow(rows) if rows else pa.table({"__row": pa.array([], pa.string())})
    names = [c for c in data.column_names if c != "__row"]
    hmap = map_header(names, t, f"{src.path} ({name})") if rows else None
    if hmap is None:
        staged = stage_arrow(
            store.con,
            pa.table(
                {"__row": pa.array([], pa.string())}
                | {c: pa.array([], pa.string()) for c in t.columns}
            ),
        )
    else:
        keep = {"__row": data.column("__row")}
        for raw, tgt in zip(names, hmap.targets, strict=True):
            if tgt:
                keep[tgt] = data.column(raw)
        staged = stage_arrow(store.con, pa.table(keep))
        staged.unknown_columns = hmap.unknown
    staged.encoding = "json"
    if bad:
        store.con.executemany(
            f"INSERT INTO {REJECTS} VALUES (?, 'malformed', ?, to_json({{'line': ?}}))",
            [[line, msg, text] for line, msg, text in bad],
        )
        staged.rejected = len(bad)
    return staged


@contextmanager
def _cleanup(store: Store) -> Iterator[None]:
    try:
        yield
    finally:
        con = store.con
        con.execute(f"DROP VIEW IF EXISTS {RAW}")
        con.unregister(ARROW)
        for name in (*SCRATCH, REJECTS, SHIFT, CODEMAP):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _load_unit(
    store: Store,
    unit: _Unit,
    tmp: Path,
    batch_id: str,
    report: IngestReport,
    limits: dict[str, Any],
) -> FileResult:
    if store.in_transaction:
        raise RuntimeError("ingest runs its own transactions, one per file; call it outside one")
    started = time.perf_counter()
    t = table(unit.table)
    phase = report.phase
    con = store.con
    with phase("detect+decode"):
        staged = unit.stage(tmp, unit.digest.result())
    with phase("read+validate"):
        # The stage is a table of the store, not a temporary one: compressed and written out
        # as it fills, so memory stays bounded, and a first load keeps it as the table.
        con.execute(f"DROP TABLE IF EXISTS {STAGE}")
        sql = stage_sql(
            t,
            staged.columns,
            RAW,
            damaged=staged.damaged_lines > 0,
            numbered=staged.numbered,
            limits=limits,
            shape=staged.shape,
        )
        with scan_order_kept(con):
            try:
                con.execute(f"CREATE TABLE {STAGE} AS {sql}")
            except local.Error as exc:
                if not staged.serial_view or "quoted new lines" not in str(exc):
                    raise
                con.execute(staged.serial_view)
                con.execute(f"DROP TABLE IF EXISTS {STAGE}")
                con.execute(f"CREATE TABLE {STAGE} AS {sql}")
        finish(con, staged)
        if staged.shape:
            con.execute(truncated_sql(STAGE))
        con.unregister(ARROW)  # XLSX/JSON rows are in the stage now
        staged.rows = store.count(STAGE)
    # From here on one transaction per file, bookkeeping included: a killed ingest leaves no
    # file half loaded, and the rerun loads exactly the files not recorded yet. The stage is
    # built before it (a scratch table, rebuilt by the rerun): its rowids number the rows,
    # and rows inserted inside a transaction get provisional rowids.
    with store.transaction():
        return _store_unit(store, unit, t, staged, batch_id, report, started)


def _store_unit(
    store: Store,
    unit: _Unit,
    t: Table,
    staged: Staged,
    batch_id: str,
    report: IngestReport,
    started: float,
) -> FileResult:
    phase = report.phase
    con = store.con
    with phase("orphans"):
        orphans = orphans_sql(t, staged.columns, STAGE, parent_exists=store.has(SETL_LIST.name))
        if orphans:
            con.execute(orphans)
    with phase("duplicates"):
        hashes = duplicate_hashes_sql(t, staged.columns, STAGE)
        if hashes:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {HASHES} AS {hashes}")
            if store.count(HASHES):
                dup_keys = duplicate_keys_sql(t, staged.columns, STAGE, HASHES)
                con.execute(mark_duplicates_sql(t, staged.columns, STAGE, dup_keys))
    with phase("code map"):
        apply_codemap(con, t, staged.columns)
    with phase("quarantine"):
        failing = errors(con)
        quarantined = quarantine(store, t, staged, batch_id=batch_id, source=str(unit.source.path))
    with phase("store"):
        loaded = load_accepted(store, t, staged, failing)
    loaded.quarantined = quarantined
    result = FileResult(
        table=unit.table,
        source=str(unit.source.path),
        encoding=staged.encoding,
        read=staged.rows + staged.rejected,
        accepted=loaded.accepted,
        quarantined=loaded.quarantined,
        replaced=loaded.replaced,
        unchanged=loaded.unchanged,
        unknown_columns=staged.unknown_columns,
        notes=staged.notes,
    )
    # The promise of ingest: every row read is either stored or quarantined, never dropped.
    assert result.read == result.accepted + result.quarantined, (
        f"{unit.source.path}: read {result.read} != accepted {result.accepted} "
        f"+ quarantined {result.quarantined}"
    )
    store.write(
        INGEST_BATCH.name,
        pa.table(
            {
                "batch_id": [batch_id],
                "table_name": [unit.table],
                "source_file": [str(unit.source.path)],
                "content_hash": [unit.content_hash],
                "encoding": [staged.encoding],
                "rows_read": pa.array([result.read], pa.int64()),
                "rows_accepted": pa.array([result.accepted], pa.int64()),
                "rows_quarantined": pa.array([result.quarantined], pa.int64()),
                "rows_replaced": pa.array([result.replaced], pa.int64()),
                "rows_unchanged": pa.array([result.unchanged], pa.int64()),
                "ingested_at": pa.array(
                    [dt.datetime.now().replace(microsecond=0)], pa.timestamp("s")
                ),
            }
        ),
    )
    result.seconds = time.perf_counter() - started
    return result


def ingest(
    data_dir: str | Path,
    store: Store,
    config: dict[str, dict[str, Any]] | None = None,
    *,
    tick: Tick | None = None,
    on_start: Callable[[int], None] | None = None,
    force: bool = False,
) -> IngestReport:
    """Load every table file of ``data_dir`` (and its ``knowledge/``) into ``store``.

    ``force`` reads again the files whose content was already ingested (their rows replace
    the stored ones by key, as for a changed file).

    Returns per-table counts (read = accepted + quarantined), the files skipped because their
    content was already ingested, unknown files and columns, the front-page match rate and the
    scope counts. ``tick``/``on_start`` feed a progress display (one tick per file and table).
    """
    from huiyan.ingest.linkage import medrcd_match, settlements_without_institution
    from huiyan.ingest.scope import write_scope
    from huiyan.kb import config as kb_config

    cfg = config or kb_config.load(None)
    data_dir = Path(data_dir)
    batch_id = dt.datetime.now().strftime("B%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    sources, unknown = discover(data_dir)
    report = IngestReport(batch_id=batch_id, unknown_files=[str(p) for p in unknown])
    seen = set() if force else _seen_hashes(store)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-hash")
    try:
        units = _units(store, sources, report, seen, pool)
        limits = cfg.get("ingest") or kb_config.defaults("ingest")
        try:
            _load_all(store, units, seen, report, batch_id, limits, tick=tick, on_start=on_start)
        except local.IOException as exc:  # disk full, store file lost: a clear message
            raise storage_error(store.path, exc) from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if tick:
        tick("付费范围 scope")
    if store.has(SETL_LIST.name):
        with report.phase("scope+linkage"), store.transaction():
            report.scope = write_scope(store, cfg["scope"])
            report.medrcd_match = medrcd_match(store)
            report.without_institution = settlements_without_institution(store)
            if report.without_institution:
                log.warning(
                    "%d settlements name an institution not in medins", report.without_institution
                )
    return report


def _load_all(
    store: Store,
    units: list[_Unit],
    seen: set[tuple[str, str]],
    report: IngestReport,
    batch_id: str,
    limits: dict[str, Any],
    *,
    tick: Tick | None,
    on_start: Callable[[int], None] | None,
) -> None:
    if on_start:
        on_start(len(units) + 1)
    with temp_dir() as tmp, store.memory_limit(MEMORY_LIMIT), _cleanup(store):
        for unit in units:
            if tick:
                tick(f"{unit.table} ← {unit.source.path.name}")
            with report.phase("hash wait"):  # hashed in the background, usually ready
                digest = unit.content_hash
            if (unit.table, digest) in seen:  # a table file: one unit per file
                report.skipped_files.append(str(unit.source.path))
                continue
            result = _load_unit(store, unit, Path(tmp), batch_id, report, limits)
            report.add(result)
            if result.unknown_columns:
                log.warning(
                    "%s: columns not in the model, kept out: %s",
                    unit.source.path,
                    ", ".join(result.unknown_columns),
                )
