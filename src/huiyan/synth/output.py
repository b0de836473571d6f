"""Arrow conversion and file writing (CSV or Parquet), one file per table, streamed by batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from huiyan.model.fields import Table


def decimal_from_units(units: np.ndarray, typ: pa.Decimal128Type) -> pa.Array:
    """A decimal array whose unscaled integers are ``units`` (exact: no float on the way)."""
    v = np.ascontiguousarray(units, dtype=np.int64)
    words = np.empty((len(v), 2), dtype=np.int64)
    words[:, 0] = v
    words[:, 1] = v >> 63
    return pa.Array.from_buffers(typ, len(v), [None, pa.py_buffer(words.tobytes())])


def timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype="datetime64[s]"), type=pa.timestamp("s"))


def dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype="datetime64[D]"), type=pa.date32())


def strings(values: np.ndarray | list) -> pa.Array:
    return pa.array(values, type=pa.string())


def int_strings(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())


class TableWriter:
    """Appends batches of one canonical table to ``<name>.csv`` or ``<name>.parquet``."""

    def __init__(self, folder: Path, table: Table, fmt: str) -> None:
        self.table = table
        self.schema = table.arrow_schema()
        self.path = folder / f"{table.name}.{'csv' if fmt == 'csv' else 'parquet'}"
        self.fmt = fmt
        self._writer: pacsv.CSVWriter | pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, columns: dict[str, pa.Array]) -> None:
        n = len(next(iter(columns.values())))
        arrays = [
            columns[f.name].cast(f.type) if f.name in columns else pa.nulls(n, f.type)
            for f in self.table.fields
        ]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        if self._writer is None:
            if self.fmt == "csv":
                self._writer = pacsv.CSVWriter(str(self.path), self.schema)
            else:
                self._writer = pq.ParquetWriter(str(self.path), self.schema, compression="zstd")
        self._writer.write_batch(batch)
        self.rows += n

    def close(self) -> None:
        if self._writer is None:
            self.write({f.name: pa.nulls(0, f.type) for f in self.table.fields})
        assert self._writer is not None
        self._writer.close()
