"""Which files of a dataset folder feed which canonical table."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from huiyan.errors import InputError
from huiyan.model.tables import INPUT_TABLES, KNOWLEDGE_TABLES

log = logging.getLogger(__name__)

TABULAR = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
MESSAGES = {".jsonl": "json", ".json": "json", ".ndjson": "json"}
KNOWLEDGE_DIR = "knowledge"


@dataclass(frozen=True)
class Source:
    """One file: the table it loads (``None`` for interface messages, which feed several)."""

    path: Path
    fmt: str
    table: str | None


def discover(data_dir: Path) -> tuple[list[Source], list[Path]]:
    """The dataset's files by table, and the files huiyan does not know (warned, ignored)."""
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: 数据目录不存在 (dataset folder not found)")
    sources: list[Source] = []
    unknown: list[Path] = []
    input_names = {t.name for t in INPUT_TABLES}
    knowledge_names = {t.name for t in KNOWLEDGE_TABLES}
    for folder, names in ((data_dir, input_names), (data_dir / KNOWLEDGE_DIR, knowledge_names)):
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            suffix = path.suffix.lower()
            if suffix in MESSAGES and folder == data_dir:
                sources.append(Source(path, MESSAGES[suffix], None))
            elif suffix in TABULAR and path.stem.lower() in names:
                sources.append(Source(path, TABULAR[suffix], path.stem.lower()))
            elif not path.name.startswith("."):
                unknown.append(path)
    for path in unknown:
        log.warning("%s: not a table huiyan knows; ignored", path)
    return sources, unknown
