"""The embedded store: one DuckDB file with the canonical tables, quarantine and results."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from huiyan.engine.base import DEFAULT_STORE, Capabilities, Engine, WriteMode
from huiyan.errors import StorageError
from huiyan.model import Table, table

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends.duckdb import Backend as IbisDuckDB

DEFAULT_DB = DEFAULT_STORE
# The engine's working-memory cap, as a share of the machine's memory, unless
# HUIYAN_MEMORY_LIMIT sets it ("6GB"). DuckDB's own default (80%) leaves no room for the Arrow
# tables a step holds in the process, nor for other programs: at 1M settlements the audit then
# grew past 18 GB. Beyond the cap DuckDB spills to its temporary directory (next to the store
# file, or HUIYAN_TEMP_DIRECTORY).
MEMORY_SHARE = 0.2
MIN_MEMORY_LIMIT_MB = 1024


def default_memory_limit() -> str:
    """The store's memory cap: ``HUIYAN_MEMORY_LIMIT`` if set, else ``MEMORY_SHARE`` of the
    physical memory (at least 1 GB)."""
    if limit := os.environ.get("HUIYAN_MEMORY_LIMIT", "").strip():
        return limit
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf: leave DuckDB's default
        return ""
    return f"{max(MIN_MEMORY_LIMIT_MB, int(total * MEMORY_SHARE / 2**20))}MB"


_ARROW_TO_DUCK = {
    "string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "date32[day]": "DATE",
    "timestamp[s]": "TIMESTAMP",
    "timestamp[us]": "TIMESTAMP",
    "decimal128(16, 2)": "DECIMAL(16,2)",
    "decimal128(18, 4)": "DECIMAL(18,4)",
    "decimal128(18, 6)": "DECIMAL(18,6)",
}


def ddl(t: Table) -> str:
    """CREATE TABLE statement for a canonical table (all columns nullable; keys not enforced)."""
    cols = ", ".join(f'"{f.name}" {_ARROW_TO_DUCK[str(f.type)]}' for f in t.fields)
    return f'CREATE TABLE IF NOT EXISTS "{t.name}" ({cols})'


class Store(Engine):
    """The DuckDB engine: one database file holding huiyan's tables (the default engine).

    Implements :class:`huiyan.engine.base.Engine`; steps use only that interface. ``con`` (the
    DuckDB connection) is for code inside ``huiyan.engine`` alone.
    """

    name = "duckdb"
    capabilities = Capabilities(
        transactions=True, temp_tables=True, in_process=True, memory_limit=True, local_store=True
    )

    def __init__(
        self, path: str | Path = DEFAULT_DB, *, read_only: bool = False, wait: float = 0.0
    ) -> None:
        """Open (or create) the store at ``path``.

        A store held by another process raises ``StorageError`` naming that process, after
        retrying for ``wait`` seconds; so do a full disk and a file that cannot be accessed.
        """
        self.path = Path(path)
        self.con = _connect(self.path, read_only=read_only, wait=wait)
        self._depth = 0
        # DuckDB's own text progress bar would interleave with the CLI's Rich bars (and fill
        # logs when output is redirected); steps report progress themselves.
        self.con.execute("SET enable_progress_bar = false")
        self._memory_limit = default_memory_limit()
        if self._memory_limit:
            self.con.execute(f"SET memory_limit = '{self._memory_limit}'")
        self._memory_limit_shown = self._setting("memory_limit")
        if temp := os.environ.get("HUIYAN_TEMP_DIRECTORY", "").strip():
            self.con.execute(f"SET temp_directory = '{temp}'")
        self._ibis: IbisDuckDB | None = None
        self.written: set[str] = set()

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def describe(self) -> str:
        return f"duckdb ({self.path})"

    def local_store(self) -> Store:
        return self

    @property
    def ibis(self) -> IbisDuckDB:
        """An Ibis backend on the same connection (imported lazily: Ibis is slow to import)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    # ------------------------------------------------------------------ tables
    def has(self, name: str) -> bool:
        rows = self.con.sql(
            "select count(*) from information_schema.tables where table_name = ?", params=[name]
        ).fetchall()
        return bool(rows[0][0])

    def drop(self, name: str) -> None:
        self.con.execute(f'DROP TABLE IF EXISTS "{name}"')

    def drop_stale(self, *names: str, types: bool = True) -> list[str]:
        dropped = []
        for name in names:
            have = self.con.sql(
                "select column_name, data_type from information_schema.columns "
                "where table_name = ? order by ordinal_position",
                params=[name],
            ).fetchall()
            if not have:
                continue
            want = table(name)
            if types:
                cols = ", ".join(f'"{c}" {t}' for c, t in have)
                same = ddl(want).replace(" ", "") == (
                    f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})'.replace(" ", "")
                )
            else:
                same = [c for c, _ in have] == want.columns
            if not same:
                self.drop(name)
                dropped.append(name)
        return dropped

    def base_tables(self) -> list[str]:
        from huiyan.model import TABLES

        rows = self.con.sql(
            "select table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        return sorted(r[0] for r in rows if r[0] in TABLES)

    def link(self, source: Engine, names: Sequence[str]) -> list[str]:
        linked = []
        with self.transaction():
            for name in names:
                folder = source.files(name)
                if folder is None:
                    continue
                files = str(folder.resolve() / "*.parquet").replace("'", "''")
                self.con.execute(f'DROP TABLE IF EXISTS "{name}"')
                self.con.execute(
                    f"CREATE OR REPLACE VIEW \"{name}\" AS SELECT * FROM read_parquet('{files}')"
                )
                linked.append(name)
        return linked

    def ensure(self, name: str) -> None:
        """Create the canonical table ``name`` if it does not exist yet."""
        self.con.execute(ddl(table(name)))

    def tables(self) -> list[str]:
        return [
            r[0]
            for r in self.con.sql(
                "select table_name from information_schema.tables order by 1"
            ).fetchall()
        ]

    def count(self, name: str) -> int:
        if not self.has(name):
            return 0
        return int(self.con.sql(f'select count(*) from "{name}"').fetchall()[0][0])

    def read(self, name: str) -> pa.Table:
        """The whole table as Arrow (for small tables and tests; steps use ``table``)."""
        return self.con.sql(f'select * from "{name}"').to_arrow_table()

    def table(self, name: str) -> ir.Table:
        """The stored table as an Ibis expression; an empty canonical table if not stored yet."""
        if not self.has(name):
            self.ensure(name)
        return self.ibis.table(name)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        return expr.to_pyarrow()

    def to_batches(self, expr: ir.Table, *, batch_size: int = 100_000) -> Iterator[pa.RecordBatch]:
        # Ibis 12's own to_pyarrow_batches calls a method DuckDB 2 removed.
        yield from self.ibis._to_duckdb_relation(expr).to_arrow_reader(batch_size)

    def materialize(self, expr: ir.Table) -> ir.Table:
        return expr.cache()

    def register(self, name: str, data: pa.Table) -> ir.Table:
        return self.ibis.create_table(name, data, temp=True, overwrite=True)

    def release(self, table: ir.Table) -> None:
        with suppress(Exception):  # a table already dropped with its connection
            table.release()

    def write(self, name: str, data: pa.Table | ir.Table, *, mode: WriteMode = "append") -> int:
        """Write rows to a canonical table. ``mode``: ``append`` or ``replace`` (drop all rows first).

        Returns the number of rows written. Columns are conformed to the model schema, so a
        step cannot invent or misspell a column without an error here.
        """
        if mode not in ("append", "replace"):
            raise ValueError(f"mode must be append or replace, not {mode!r}")
        t = table(name)
        if not isinstance(data, pa.Table):
            data = data.to_pyarrow()
        unknown = set(data.column_names) - set(t.columns)
        if unknown:
            raise ValueError(f"table {name}: unknown columns {sorted(unknown)}")
        data = t.conform(data)
        self.ensure(name)
        self.written.add(name)
        with self.transaction():
            if mode == "replace":
                self.con.execute(f'DELETE FROM "{name}"')
            if not data.num_rows:
                # Not for speed: after a DELETE, an INSERT of no rows made the next INSERT of
                # more than a row group (122,880 rows) invisible to the rest of the transaction
                # (DuckDB 2.0.0; the rows appear at commit). QC replaces qc_issue with an empty
                # table, appends each check's issues and counts them in one transaction: at 1M
                # settlements it counted 0 issues and a 100 % pass rate.
                return 0
            self.con.register("_huiyan_incoming", data)
            try:
                self.con.execute(f'INSERT INTO "{name}" SELECT * FROM _huiyan_incoming')
            finally:
                self.con.unregister("_huiyan_incoming")
        return data.num_rows

    def delete_where(self, name: str, match: Mapping[str, Sequence[Any] | pa.Array]) -> int:
        if not self.has(name):
            return 0
        conds, keys = [], []
        for i, (column, values) in enumerate(match.items()):
            arr = values if isinstance(values, pa.Array) else pa.array(list(values) or [], None)
            if arr.type == pa.null():
                arr = arr.cast(pa.string())
            keys.append(f"_huiyan_keys{i}")
            self.con.register(keys[-1], pa.table({"k": arr}))
            conds.append(f'"{column}" IN (SELECT k FROM {keys[-1]})')
        try:
            before = self.count(name)
            self.con.execute(f'DELETE FROM "{name}" WHERE {" AND ".join(conds) or "true"}')
            return before - self.count(name)
        finally:
            for k in keys:
                self.con.unregister(k)

    def _setting(self, name: str) -> str:
        return str(self.con.sql(f"SELECT current_setting('{name}')").fetchall()[0][0])

    @contextmanager
    def memory_limit(self, limit: str) -> Iterator[None]:
        """Cap DuckDB's working memory (it spills to disk beyond) for a heavy step, then
        restore the setting."""

        def current() -> str:
            return self._setting("memory_limit")

        before = current()
        self.con.execute("RESET memory_limit")
        # The setting reads back rounded ("18.8 GiB"): restore by RESET when it was the default,
        # to the store's own cap when it is that.
        if current() == before:
            restore = "RESET memory_limit"
        elif self._memory_limit and before == self._memory_limit_shown:
            restore = f"SET memory_limit = '{self._memory_limit}'"
        else:
            restore = f"SET memory_limit = '{before}'"
        self.con.execute(f"SET memory_limit = '{limit}'")
        try:
            yield
        finally:
            self.con.execute(restore)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside are one transaction: committed together or not at all.

        Nested uses join the outermost transaction (DuckDB has no savepoints), so a pipeline
        step, an ingested file and the bookkeeping rows written with them commit as one; a
        process killed inside leaves the store as it was before. A full disk or a lost file
        at commit raises ``StorageError``.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException as exc:
            self._depth = 0
            # The failure may have ended the transaction already.
            with suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            err = storage_error(self.path, exc) if isinstance(exc, duckdb.IOException) else exc
            if err is not exc:
                raise err from exc
            raise
        self._depth = 0
        try:
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            raise storage_error(self.path, exc) from exc

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def storage_error(path: Path, exc: BaseException) -> StorageError | BaseException:
    """The user-facing error for a DuckDB failure on the store file, or ``exc`` itself."""
    msg = str(exc)
    if m := _LOCK_HOLDER.search(msg):
        return StorageError(
            f"{path}: 数据库正被另一进程使用 (PID {m.group(2)}: {m.group(1)}),请等待其结束"
            f" / store in use by process {m.group(2)} ({m.group(1)}); wait for it to finish"
        )
    if "No space left" in msg or "disk is full" in msg.lower():
        return StorageError(f"{path}: 磁盘空间已满 / disk full, the store was not changed")
    if "Permission denied" in msg or "Read-only file system" in msg:
        return StorageError(f"{path}: 无权限读写数据库文件 / permission denied")
    if isinstance(exc, duckdb.IOException):
        return StorageError(f"{path}: 数据库文件读写失败 / store I/O error: {msg.splitlines()[0]}")
    return exc


def open_engine(
    path: str | Path = DEFAULT_DB, *, read_only: bool = False, wait: float = 0.0
) -> Store:
    """The DuckDB engine on the store file ``path`` (``engine.connect("duckdb", ...)``)."""
    return Store(path, read_only=read_only, wait=wait)


_CLI_LOCK = re.compile(
    r'lock on file "(?P<file>[^"]+)".*?held in (?P<prog>\S+) \(PID (?P<pid>\d+)\)'
)
_NOT_DUCKDB = re.compile(r'file "(?P<file>[^"]+)" exists, but it is not a valid DuckDB')


def describe_error(exc: BaseException) -> str | None:
    """The user's line (Chinese + English) for an error DuckDB raised, or None when it is not
    one of the known causes (locked, not a database, disk full, permissions, memory)."""
    if type(exc).__module__.split(".")[0] not in ("duckdb", "_duckdb"):
        return None
    text = str(exc)
    if m := _CLI_LOCK.search(text):
        prog = Path(m["prog"]).name
        return (
            f"{m['file']}: 数据库正被另一进程使用 (PID {m['pid']}, {prog}), 请等它结束后重试 "
            "database in use by another process"
        )
    if m := _NOT_DUCKDB.search(text):
        return f"{m['file']}: 不是 DuckDB 数据库文件 not a DuckDB database"
    if "No space left" in text or "disk is full" in text.lower():
        return "磁盘空间不足 no space left on device (数据库写入失败)"
    if "Permission denied" in text:
        return f"没有读写权限 permission denied: {text.split(':', 1)[-1].strip()}"
    if "Out of Memory" in text:
        return "内存不足 out of memory: 请减少数据量或在更大内存的机器上运行"
    return None


def _connect(path: Path, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            err = storage_error(path, exc)
            locked = _LOCK_HOLDER.search(str(exc)) is not None
            if locked and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            if err is exc:
                raise
            raise err from exc
