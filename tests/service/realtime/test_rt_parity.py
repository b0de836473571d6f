"""One rule library, two paths: each encounter of a synthetic region sent through /api/v1/3101
gets exactly the findings of ``huiyan audit --stage in`` for that encounter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from tests.audit.region import build_region

from huiyan.audit.api import audit_store
from huiyan.engine import Store
from huiyan.kb import config
from huiyan.service.realtime.mapping import to_messages


def _messages(db: Path, n: int) -> tuple[list[dict[str, Any]], list[str], pa.Table]:
    with Store(db, read_only=True) as store:
        batch = audit_store(store, config.load(), stage="in").findings
        setl = store.read("setl_list").sort_by("setl_id").slice(0, n)
        tables = {name: store.read(name) for name in ("diseinfo", "oprninfo", "feedetail")}
    msgs = to_messages({"setl_list": setl, **tables})
    ids = setl.column("setl_id").to_pylist()
    return msgs, ids, batch.filter(pc.is_in(batch.column("setl_id"), pa.array(ids)))


def _parity(tmp_path: Path, cases: int, sent: int) -> None:
    from fastapi.testclient import TestClient

    from huiyan.review.users import add_user
    from huiyan.service.app import create_app
    from huiyan.service.settings import Settings

    db, _labels = build_region(tmp_path / "region", cases=cases, seed=11)
    msgs, ids, expected = _messages(db, sent)
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
    got = []
    with TestClient(app) as c:
        tok = c.post("/api/v1/auth/token", json={"username": "aud", "password": "pw-123456789"})
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        for m in msgs:
            r = c.post("/api/v1/3101", json=m, headers=h)
            assert r.status_code == 200, r.text
            got += [
                (f["rule_id"], f["setl_id"], f["jr_id"], f"{f['vola_amt']:.2f}", f["vola_cont"])
                for f in r.json()["result"]
            ]
    want = [
        (f["rule_id"], f["setl_id"], f["jr_id"], f"{float(f['vola_amt']):.2f}", f["vola_cont"])
        for f in expected.to_pylist()
    ]
    # Pre-grouping gives the batch grouper's DRG (same compiled scheme), with a standard.
    with Store(db, read_only=True) as store:
        drg = {
            r["setl_id"]: r["drg"]
            for r in store.read("drg_result").to_pylist()
            if r["scheme"] == "chs-drg-1.1"
        }
    for m in msgs[:10]:
        g = c_group(app, h, m)
        sid = m["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["setl_id"]
        assert g["drg"]["drg"] == drg[sid]
        assert g["drg"]["trace"][-1].startswith("结果")
        assert g["cost_so_far"] > 0
    assert want, "the region should have in-stage findings among the encounters sent"
    assert sorted(got) == sorted(want)
    assert len(ids) == sent


def c_group(app: Any, h: dict[str, str], m: dict[str, Any]) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        r = c.post("/api/v1/group", json=m, headers=h)
    assert r.status_code == 200, r.text
    return r.json()["result"][0]


def test_parity_50(tmp_path: Path) -> None:
    _parity(tmp_path, cases=200, sent=50)


@pytest.mark.slow
def test_parity_1000(tmp_path: Path) -> None:
    _parity(tmp_path, cases=1000, sent=1000)
