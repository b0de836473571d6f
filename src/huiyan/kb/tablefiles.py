"""Reading a kb data file (CSV in the package, or a dataset's file) into a model table."""

from __future__ import annotations

import io
from importlib import resources
from importlib.resources.abc import Traversable
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv

from huiyan.errors import ConfigurationError
from huiyan.model.fields import Table


def read_package_csv(relative: str, table: Table) -> pa.Table:
    """``kb/data/<relative>`` parsed with ``table``'s column types; blank cells are null."""
    path = resources.files("huiyan.kb").joinpath(f"data/{relative}")
    if not path.is_file():
        raise ConfigurationError(f"knowledge-base file not found: data/{relative}")
    with path.open("rb") as fh:
        try:
            data = pacsv.read_csv(
                fh,
                convert_options=pacsv.ConvertOptions(
                    column_types={f.name: f.type for f in table.fields},
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise ConfigurationError(f"data/{relative}: {exc}") from exc
    unknown = [c for c in data.column_names if c not in table]
    if unknown:
        raise ConfigurationError(f"data/{relative}: 未知列 unknown columns {unknown}")
    return table.conform(data)


def open_csv_text(path: Traversable) -> IO[str]:
    """A package data file opened as UTF-8 text for ``csv``, with newlines left to the reader.

    ``Traversable.open`` accepts ``newline`` only for some implementations (the typing protocol
    has no such parameter), so the bytes are wrapped here: the same on a folder and in a zip.
    """
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8", newline="")
