"""For random corruptions of a valid dataset, rows in = accepted + quarantined, per table."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ingest.builders import write_dataset

from huiyan.engine import Store
from huiyan.ingest import ingest

TABLES = ("setl_list", "diseinfo", "oprninfo", "feedetail")
GARBAGE = ["", "x", "-1", "2024-02-30", "9999999999999999999", '"', ",", "\u00e9", "NULL", " "]

corruption = st.tuples(
    st.sampled_from(TABLES),
    st.integers(min_value=1, max_value=25),  # line (1 = first data row)
    st.integers(min_value=0, max_value=12),  # field
    st.one_of(st.sampled_from(GARBAGE), st.text(max_size=6)),
)


def _corrupt(folder: Path, edits: list[tuple[str, int, int, str]], truncate: int) -> dict[str, int]:
    rows_in = {}
    for name in TABLES:
        path = folder / f"{name}.csv"
        lines = path.read_text(encoding="utf-8").split("\n")
        for table, line, col, value in edits:
            if table == name and line < len(lines) - 1:
                cells = lines[line].split(",")
                cells[col % len(cells)] = value.replace("\n", " ").replace("\r", " ")
                lines[line] = ",".join(cells)
        text = "\n".join(lines)
        if name == "feedetail" and truncate:
            text = text.rstrip("\n")[:-truncate]
        path.write_text(text, encoding="utf-8")
        rows_in[name] = len([ln for ln in text.split("\n")[1:] if ln])
    return rows_in


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(corruption, max_size=8), truncate=st.integers(min_value=0, max_value=30))
def test_rows_in_equal_accepted_plus_quarantined(edits: list, truncate: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_dataset(Path(tmp) / "data")
        rows_in = _corrupt(folder, edits, truncate)
        with Store(Path(tmp) / "t.duckdb") as store:
            report = ingest(folder, store)
            for name in TABLES:
                c = report.tables[name]
                assert c.read == c.accepted + c.quarantined
                stored = store.count(name)
                q = store.con.sql(
                    "select count(*) from quarantine where table_name = ?", params=[name]
                )
                assert (stored, q.fetchall()[0][0]) == (c.accepted, c.quarantined)
                # A quoted field may swallow a line break, so rows can only be fewer than lines.
                assert c.read <= rows_in[name]
