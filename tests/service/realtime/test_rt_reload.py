"""Knowledge hot reload: a changed configuration file applies without a restart.

The change is noticed by the next request, rebuilt in the background (the running knowledge
keeps answering meanwhile) and in force once the rebuild is done."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import pyarrow as pa
import pytest
from tests.audit.region import build_region
from tests.service.realtime.test_rt_parity import _messages


def _write(path: Path, text: str, bump: float) -> None:
    path.write_text(text, encoding="utf-8")
    # A later modification time than the one the server saw, whatever the clock's resolution.
    stamp = time.time() + bump
    os.utime(path, (stamp, stamp))


def test_config_change_applies_to_next_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from huiyan.review.users import add_user
    from huiyan.service.app import create_app
    from huiyan.service.settings import Settings

    db, _labels = build_region(tmp_path / "region", cases=200, seed=11)
    msgs, ids, expected = _messages(db, 50)
    assert expected.num_rows, "the region should have in-stage findings among the encounters"
    hit = expected.to_pylist()[0]
    rule, setl = hit["rule_id"], hit["setl_id"]
    msg = msgs[ids.index(setl)]

    cfg = tmp_path / "huiyan.yaml"
    _write(cfg, f"audit:\n  rules:\n    {rule}: {{enabled: true}}\n", bump=0)
    monkeypatch.setenv("HUIYAN_CONFIG", str(cfg))
    app = create_app(
        Settings(
            state=f"sqlite:///{tmp_path / 'state.sqlite'}",
            db=db,
            attachment_dir=tmp_path / "att",
            snapshot_poll_seconds=0,
            token_cache_seconds=0,
        )
    )
    with app.state.write_session() as s:
        add_user(s, username="aud", password="pw-123456789", role="auditor", medins_code=None)
        s.commit()
    kb = app.state.realtime
    kb.check_seconds = 0  # look at the files on every request

    def rules_found() -> set[str]:
        kb.current()  # notice a change (as any request does)
        kb.wait(600)  # and let its rebuild finish
        r = c.post("/api/v1/3101", json=msg, headers=h)
        assert r.status_code == 200, r.text
        return {f["rule_id"] for f in r.json()["result"]}

    with TestClient(app) as c:
        tok = c.post("/api/v1/auth/token", json={"username": "aud", "password": "pw-123456789"})
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        assert rule in rules_found()
        first = kb.current()

        _write(cfg, f"audit:\n  rules:\n    {rule}: {{enabled: false}}\n", bump=10)
        assert rule not in rules_found()
        assert kb.current() is not first  # rebuilt in the running app

        _write(cfg, f"audit:\n  rules:\n    {rule}: {{enabled: true}}\n", bump=20)
        assert rule in rules_found()


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_server_start_compiles_the_rules_before_any_request(
    app,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fastapi.testclient import TestClient

    from huiyan.grouping.compiled import compile_scheme
    from huiyan.service.realtime import WARM_ENV, pregroup

    monkeypatch.setenv(WARM_ENV, "1")
    kb = app.state.realtime
    assert kb.reloads == 0
    # What earlier tests of this process loaded is forgotten: start-up alone must load it.
    compile_scheme.cache_clear()
    pregroup.drg_names.cache_clear()
    pregroup._ROWS.clear()
    with TestClient(app):
        pass  # start-up and shut-down only: shut-down waits for the warm-up to finish
    assert kb.reloads == 1
    try:
        loaded = kb.current()
        auditor = loaded.auditor
        assert auditor.rules  # the compiled library, ready for the first request
        assert auditor._arrow._const  # its knowledge relations computed ahead
        # Pre-grouping's scheme, group names and published tables too (~60 ms otherwise).
        scheme, _, _ = pregroup.settings(loaded.config)
        before = compile_scheme.cache_info()
        compile_scheme(scheme)
        assert compile_scheme.cache_info().hits == before.hits + 1
        assert pregroup.drg_names.cache_info().currsize == 1
        # The collector settled on what the load left alive (no full-collection stalls).
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_pregroup_warm_converts_the_published_tables_once() -> None:
    from huiyan.service.realtime import pregroup

    rate = pa.table({"method": ["DRG"], "kind": ["rate"], "value": [12000.0]})
    other = pa.table({"x": [1]})
    pregroup._ROWS.clear()
    pregroup.warm(
        {"grouping": {"payment_scheme": "chs-drg-1.1"}}, {"payment_rate": rate, "x": other}
    )
    assert set(pregroup._ROWS) == {id(rate)}  # only what pre-grouping reads
    kept = pregroup._ROWS[id(rate)][1]
    assert kept == rate.to_pylist()
    assert pregroup._rate({"payment_rate": rate}, "DRG", "rate") == 12000.0
    assert pregroup._ROWS[id(rate)][1] is kept  # the request reads the rows converted at load


def test_stored_encounters_read_for_warm_up_and_history(tmp_path: Path) -> None:
    """The warm-up sample and a person's earlier stays come with exactly their diagnoses,
    operations and fee lines, read from the snapshot."""
    import pyarrow.compute as pc

    from huiyan.engine import Store
    from huiyan.service.realtime.knowledge import _history_reader, _sample

    db, _labels = build_region(tmp_path / "region", cases=60, seed=5)
    with Store(db, read_only=True) as store:
        every = {n: store.read(n) for n in ("setl_list", "diseinfo", "oprninfo", "feedetail")}
        sample = _sample(store, set(store.tables()))
        assert _sample(store, {"setl_list"}) is None  # no encounters stored: nothing to warm on

    def expected(setl_ids: list[str]) -> dict[str, int]:
        s = every["setl_list"].filter(pc.is_in(every["setl_list"]["setl_id"], pa.array(setl_ids)))
        return {
            "setl_list": s.num_rows,
            "diseinfo": pc.sum(pc.is_in(every["diseinfo"]["setl_id"], s["setl_id"])).as_py(),
            "oprninfo": pc.sum(pc.is_in(every["oprninfo"]["setl_id"], s["setl_id"])).as_py(),
            "feedetail": pc.sum(pc.is_in(every["feedetail"]["mdtrt_id"], s["mdtrt_id"])).as_py(),
        }

    assert sample is not None
    ids = sample["setl_list"]["setl_id"].to_pylist()
    assert len(ids) == 16
    assert {n: t.num_rows for n, t in sample.items()} == expected(ids)
    assert sample["feedetail"].num_rows > 0

    # The person with the most stays: the others than the one being audited.
    persons = every["setl_list"]["psn_no"].value_counts().to_pylist()
    psn = max(persons, key=lambda v: v["counts"])["values"]
    stays = every["setl_list"].filter(pc.equal(every["setl_list"]["psn_no"], psn))
    current = stays["setl_id"][0].as_py()
    earlier = _history_reader(db)([psn], [current])
    others = [s for s in stays["setl_id"].to_pylist() if s != current]
    assert others
    assert sorted(earlier["setl_list"]["setl_id"].to_pylist()) == sorted(others)
    assert {n: t.num_rows for n, t in earlier.items()} == expected(others)
