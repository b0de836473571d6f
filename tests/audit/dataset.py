"""Load a dataset folder (CSV, model columns) into a store: a stand-in for ingest in audit tests."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from huiyan.engine import Store
from huiyan.model.tables import TABLES


def read_csv(path: Path, name: str) -> pa.Table:
    schema = TABLES[name].arrow_schema()
    header = path.open(encoding="utf-8").readline().strip().replace('"', "").split(",")
    types = {c: schema.field(c).type for c in header if c in schema.names}
    # Read every column as text first: decimals and timestamps are cast by the model's conform.
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=True
        ),
    )
    cols = {c: table.column(c).cast(types[c]) for c in header if c in types}
    return TABLES[name].conform(pa.table(cols))


def load_folder(store: Store, folder: Path) -> None:
    for path in sorted(folder.glob("*.csv")):
        store.write(path.stem, read_csv(path, path.stem), mode="replace")
    for path in sorted((folder / "knowledge").glob("*.csv")):
        store.write(path.stem, read_csv(path, path.stem), mode="replace")
