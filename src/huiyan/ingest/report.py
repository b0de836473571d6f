"""What an ingest did, per file and per table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class FileResult:
    table: str
    source: str
    encoding: str
    read: int
    accepted: int
    quarantined: int
    replaced: int = 0
    unchanged: int = 0
    unknown_columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class TableCounts:
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    replaced: int = 0
    unchanged: int = 0
    files: int = 0
    seconds: float = 0.0


@dataclass
class MedrcdMatch:
    """Front page (medrcd) ↔ settlement list linkage by medcasno."""

    settlements: int
    matched: int

    @property
    def rate(self) -> float:
        return self.matched / self.settlements if self.settlements else 0.0


@dataclass
class IngestReport:
    batch_id: str
    files: list[FileResult] = field(default_factory=list)
    tables: dict[str, TableCounts] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)
    unknown_files: list[str] = field(default_factory=list)
    scope: dict[str, int] = field(default_factory=dict)
    medrcd_match: MedrcdMatch | None = None
    without_institution: int = 0  # settlements whose medins_code is not in medins
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, all files

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the time spent in the block to ``phases[name]`` (the benchmark prints them)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started

    def add(self, r: FileResult) -> None:
        self.files.append(r)
        c = self.tables.setdefault(r.table, TableCounts())
        c.read += r.read
        c.accepted += r.accepted
        c.quarantined += r.quarantined
        c.replaced += r.replaced
        c.unchanged += r.unchanged
        c.files += 1
        c.seconds += r.seconds

    @property
    def notes(self) -> list[str]:
        out = [n for f in self.files for n in f.notes]
        out += [
            f"{f.source}: 未知列已忽略 unknown columns ignored: {', '.join(f.unknown_columns)}"
            for f in self.files
            if f.unknown_columns
        ]
        out += [f"{p}: 未知文件已忽略 unknown file ignored" for p in self.unknown_files]
        out += [f"{p}: 内容已导入过, 跳过 already ingested, skipped" for p in self.skipped_files]
        if self.medrcd_match is not None and self.medrcd_match.settlements:
            m = self.medrcd_match
            out.append(
                f"病案首页匹配率 front-page match rate {m.rate:.1%} ({m.matched:,}/{m.settlements:,})"
            )
        if self.without_institution:
            out.append(
                f"{self.without_institution:,} 条结算清单的机构编码(medins_code)不在机构表(medins)中, "
                "医院等级未知, 限等级、限价规则与等级系数无法适用 "
                "settlements naming an institution not in medins"
            )
        return out
