"""The small engine: canonical tables fed from Arrow, kept statements that see each feed
(a kept statement over registered Arrow rows would keep its first rows: the regression here)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from huiyan.engine import SmallEngine, Store, rows_where
from huiyan.model.tables import table


def _lines(codes: list[str], setl: str = "S1") -> pa.Table:
    n = len(codes)
    return pa.table(
        {
            "setl_id": [setl] * n,
            "mdtrt_id": [f"M{setl}"] * n,
            "feedetl_sn": [f"{setl}-{i}" for i in range(n)],
            "med_list_codg": codes,
            "fee_ocur_time": [datetime(2026, 1, 2, 3, 4, 5)] * n,
        }
    )


def test_kept_query_sees_each_feed() -> None:
    eng = SmallEngine()
    try:
        eng.ensure("feedetail")
        fee = eng.ibis.table("feedetail")
        expr = fee.filter(fee.med_list_codg.isin(["A", "B"])).select("feedetl_sn")
        eng.prepare("q", eng.compile(expr))
        assert eng.query("q").num_rows == 0  # nothing fed yet
        eng.feed("feedetail", [_lines(["A", "C"]), _lines(["B"], setl="S2")])
        assert sorted(eng.query("q").column("feedetl_sn").to_pylist()) == ["S1-0", "S2-0"]
        eng.feed("feedetail", [_lines(["C"])])  # replaces, does not append
        assert eng.query("q").num_rows == 0
        eng.feed("feedetail", [])
        assert eng.read("feedetail").num_rows == 0
    finally:
        eng.close()


def test_fed_rows_take_the_canonical_types() -> None:
    eng = SmallEngine()
    try:
        eng.ensure("feedetail")
        eng.feed("feedetail", [_lines(["A"])])
        got = eng.read("feedetail")
        assert got.column_names == table("feedetail").columns
        assert got.column("fee_ocur_time").to_pylist() == [datetime(2026, 1, 2, 3, 4, 5)]
        with pytest.raises(ValueError, match="unknown columns"):
            eng.feed("feedetail", [_lines(["A"]).append_column("nope", pa.array([1]))])
    finally:
        eng.close()


def test_tables_statements_and_knowledge() -> None:
    eng = SmallEngine()
    try:
        eng.ensure("feedetail")
        kb = eng.create("kb", pa.table({"code": ["A", "A", "B", None]}))
        assert eng.count("kb") == 4
        assert sorted(v for v in eng.distinct("kb", "code") if v is not None) == ["A", "B"]
        fee = eng.ibis.table("feedetail")
        out = eng.create("out", schema=fee.select("feedetl_sn").schema())
        j = fee.join(kb.distinct(), fee.med_list_codg == kb.code).select("feedetl_sn")
        eng.prepare("fill", f'INSERT INTO "out" {eng.compile(j)}')
        eng.feed("feedetail", [_lines(["A", "Z"])])
        with eng.transaction():
            eng.clear("out")
            eng.run("fill")
        assert out.to_pyarrow().column("feedetl_sn").to_pylist() == ["S1-0"]
    finally:
        eng.close()


def test_rows_where(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        store.write(
            "setl_list",
            pa.table({"setl_id": ["S1", "S2", "S3"], "psn_no": ["P1", "P1", "P2"]}),
        )
        got = rows_where(store, "setl_list", "psn_no", ["P1"], unless=("setl_id", ["S2"]))
        assert got.column("setl_id").to_pylist() == ["S1"]
        assert rows_where(store, "setl_list", "psn_no", []).num_rows == 0
