"""Every engine honours the protocol the pipeline steps rely on (``huiyan.engine.base``)."""

from __future__ import annotations

import decimal

import pyarrow as pa
import pytest

from huiyan.engine import Capabilities, Engine, connect
from huiyan.model import table

D = decimal.Decimal


def _results(scheme: str, ids: list[str]) -> pa.Table:
    return pa.table(
        {
            "setl_id": ids,
            "scheme": [scheme] * len(ids),
            "status": ["SUCCESS"] * len(ids),
            "drg": ["AA11"] * len(ids),
        }
    )


def _sorted_ids(engine: Engine, name: str) -> list[str]:
    return sorted(engine.read(name).column("setl_id").to_pylist())


def test_missing_table_reads_as_empty_canonical_table(engine: Engine) -> None:
    assert engine.count("warning") == 0 and not engine.has("warning")
    assert not engine.has("drg_result") or engine.count("drg_result") == 0
    t = engine.table("drg_result")
    assert list(t.columns) == table("drg_result").columns
    assert engine.to_arrow(t).num_rows == 0
    assert engine.count("drg_result") == 0


def test_write_conforms_to_model_and_rejects_unknown_columns(engine: Engine) -> None:
    n = engine.write("drg_result", _results("s1", ["a", "b"]))
    assert n == 2
    got = engine.read("drg_result")
    assert got.column_names == table("drg_result").columns
    assert got.column("mdc").null_count == 2
    with pytest.raises(ValueError, match="unknown columns"):
        engine.write("drg_result", pa.table({"setl_id": ["x"], "nonsense": [1]}))
    assert engine.count("drg_result") == 2


def test_replace_swaps_whole_table(engine: Engine) -> None:
    engine.write("drg_result", _results("s1", ["a", "b"]))
    engine.write("drg_result", _results("s1", ["c"]), mode="replace")
    assert _sorted_ids(engine, "drg_result") == ["c"]
    with pytest.raises(ValueError, match="mode"):
        engine.write("drg_result", _results("s1", ["c"]), mode="upsert")  # type: ignore[arg-type]


def test_write_accepts_an_expression_of_the_engine(engine: Engine) -> None:
    engine.write("drg_result", _results("s1", ["a", "b", "c"]))
    expr = engine.table("drg_result").filter(lambda t: t.setl_id != "b")
    assert engine.write("drg_regroup", expr.select("setl_id", "scheme", "status", "drg")) == 2
    assert _sorted_ids(engine, "drg_regroup") == ["a", "c"]


def test_delete_and_replace_where_touch_only_their_slice(engine: Engine) -> None:
    engine.write("drg_result", _results("s1", ["a", "b"]))
    engine.write("drg_result", _results("s2", ["c"]))
    assert engine.replace_where("drg_result", {"scheme": ["s1"]}, _results("s1", ["d"])) == 1
    assert _sorted_ids(engine, "drg_result") == ["c", "d"]
    assert engine.delete_where("drg_result", {"scheme": ["s2", "none"]}) == 1
    assert _sorted_ids(engine, "drg_result") == ["d"]
    engine.write("drg_result", _results("s3", ["e", "f"]))
    # Every column of the match must hold: only e is both s3 and e.
    assert engine.delete_where("drg_result", {"scheme": ["s3"], "setl_id": ["e", "d"]}) == 1
    assert _sorted_ids(engine, "drg_result") == ["d", "f"]
    assert engine.delete_where("payment", {"setl_id": ["x"]}) == 0


def test_drop_and_drop_stale(engine: Engine) -> None:
    engine.write("payment", pa.table({"setl_id": ["a"]}))
    assert engine.drop_stale("payment", "drg_result") == []
    engine.drop("payment")
    assert not engine.has("payment")
    engine.drop("payment")  # not stored: nothing to do


def test_failed_transaction_leaves_tables_unchanged(engine: Engine) -> None:
    engine.write("drg_result", _results("s1", ["a"]))
    with pytest.raises(RuntimeError), engine.transaction():
        assert engine.in_transaction
        engine.write("drg_result", _results("s1", ["b"]), mode="replace")
        raise RuntimeError("killed mid-step")
    assert not engine.in_transaction
    if engine.capabilities.transactions:
        assert _sorted_ids(engine, "drg_result") == ["a"]


def test_materialize_register_and_join(engine: Engine) -> None:
    engine.write("drg_result", _results("s1", ["a", "b"]))
    kept = engine.materialize(engine.table("drg_result").filter(lambda t: t.setl_id == "a"))
    weights = engine.register(
        "_test_weights",
        pa.table({"drg": ["AA11"], "weight": pa.array([D("1.50")], pa.decimal128(18, 4))}),
    )
    joined = engine.to_arrow(kept.join(weights, "drg").select("setl_id", "weight"))
    assert joined.to_pylist() == [{"setl_id": "a", "weight": D("1.5000")}]
    batches = list(engine.to_batches(engine.table("drg_result"), batch_size=1))
    assert sum(b.num_rows for b in batches) == 2
    engine.release(kept)
    engine.release(weights)


def test_tables_lists_what_was_written(engine: Engine) -> None:
    engine.write("payment", pa.table({"setl_id": ["a"]}))
    assert "payment" in engine.tables()
    assert engine.has("payment")
    assert engine.read_optional("no_such_table") is None


def test_capabilities_are_declared(engine: Engine) -> None:
    assert isinstance(engine.capabilities, Capabilities)
    assert engine.name and engine.describe()


def test_connect_opens_the_duckdb_engine_and_rejects_unknown(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with connect("duckdb", path=tmp_path / "x.duckdb") as eng:
        assert eng.capabilities.transactions and eng.capabilities.in_process
    with pytest.raises(ValueError, match="unknown engine"):
        connect("oracle")


def test_publish_copies_tables_from_the_local_store(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from huiyan.engine import Store

    with Store(tmp_path / "local.duckdb") as local:
        local.write("drg_result", _results("s1", ["a", "b"]))
        engine.write("drg_result", _results("s0", ["z"]))
        assert engine.publish(local, ["drg_result", "payment"]) == {"drg_result": 2}
        assert _sorted_ids(engine, "drg_result") == ["a", "b"]
        assert engine.publish(engine, ["drg_result"]) == {}


def _upper_drg(batch: pa.RecordBatch) -> pa.Table:
    import pyarrow.compute as pc

    t = pa.Table.from_batches([batch]).select(["setl_id", "scheme", "drg"])
    return table("drg_regroup").conform(t.set_column(2, "drg", pc.utf8_lower(t.column("drg"))))


def test_map_batches_runs_a_pure_function_over_every_batch(engine: Engine) -> None:
    engine.write("drg_result", _results("s1", [f"c{i}" for i in range(5)]))
    schema = table("drg_regroup").arrow_schema()
    src = engine.table("drg_result").order_by("setl_id")
    out = engine.map_batches(src, _upper_drg, schema, batch_size=2)
    assert engine.write("drg_regroup", out, mode="replace") == 5
    got = engine.read("drg_regroup")
    assert sorted(got.column("setl_id").to_pylist()) == [f"c{i}" for i in range(5)]
    assert set(got.column("drg").to_pylist()) == {"aa11"}
    empty = engine.table("drg_result").filter(lambda t: t.setl_id == "none")
    assert engine.write("drg_regroup", engine.map_batches(empty, _upper_drg, schema)) == 0


def test_kinds_default_store_and_local_store_capability(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from huiyan.engine import DEFAULT_KIND, DEFAULT_STORE, KINDS, local

    assert engine.name in KINDS and KINDS[0] == DEFAULT_KIND
    # Users' existing store files keep their name: the default is unchanged.
    assert DEFAULT_STORE == "huiyan" + local.SUFFIX
    if engine.capabilities.local_store:
        assert engine.local_store() is engine
    else:
        with pytest.raises(NotImplementedError, match="local store"):
            engine.local_store()


def test_written_base_tables_and_files(engine: Engine) -> None:
    assert engine.written == set() and engine.base_tables() == []
    engine.write("drg_result", _results("s1", ["a"]))
    assert engine.written == {"drg_result"}
    assert engine.base_tables() == ["drg_result"]
    folder = engine.files("drg_result")
    # Files another engine can read, or none: never a folder without the table's rows.
    assert folder is None or any(folder.glob("*.parquet"))
    assert engine.files("payment") is None


def test_the_local_store_links_an_engines_result_files(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from huiyan.engine import Store

    engine.write("drg_result", _results("s1", ["b", "a"]))
    with Store(tmp_path / "local.duckdb") as store:
        store.write("drg_result", _results("s0", ["z"]))
        linked = store.link(engine, ["drg_result", "payment"])
        if engine.files("drg_result") is None:
            assert linked == [] and _sorted_ids(store, "drg_result") == ["z"]
        else:
            assert linked == ["drg_result"] and _sorted_ids(store, "drg_result") == ["a", "b"]
            # A view, not a table of the store's own: the next publish does not copy it back.
            assert store.base_tables() == []
