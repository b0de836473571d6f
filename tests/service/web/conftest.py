"""A small pipeline-built region (600 cases, settled for 2025-12) for the dashboard tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import STEPS, run_steps
from huiyan.settlement.run import settle
from huiyan.synth import generate


@pytest.fixture(scope="session")
def web_region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store file of a synthetic region after every step and one monthly settlement."""
    root = tmp_path_factory.mktemp("web-region")
    generate(root / "data", cases=600, seed=11, violation_rate=0.1, labels_dir=root / "labels")
    db = root / "huiyan.duckdb"
    cfg = config.load(None)
    with Store(db) as store:
        run_steps(
            RunContext(engine=store, config=cfg, data_dir=root / "data", show_progress=False), STEPS
        )
        settle(store, cfg, period="2025-12")
    return db


@pytest.fixture(scope="session")
def region_facts(web_region: Path) -> dict:
    """Independent figures read straight from the store, to check the pages against."""
    import duckdb

    con = duckdb.connect(str(web_region), read_only=True)
    try:
        facts = {
            "cases": con.sql("select count(*) from setl_list").fetchall()[0][0],
            "findings": con.sql("select count(*) from finding").fetchall()[0][0],
            "by_medins": dict(
                con.sql("select medins_code, count(*) from finding group by 1").fetchall()
            ),
            "names": dict(con.sql("select medins_code, medins_name from medins").fetchall()),
            "jr_by_medins": {
                m: [
                    r[0]
                    for r in con.sql(
                        "select jr_id from finding where medins_code = ? order by jr_id", params=[m]
                    ).fetchall()
                ]
                for (m,) in con.sql("select distinct medins_code from finding").fetchall()
            },
        }
    finally:
        con.close()
    return facts


@pytest.fixture
def make_client(web_region: Path) -> Iterator[Callable]:
    """A TestClient on an app with the dashboard router, signed in as the given viewer."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from huiyan.service.web import Viewer, router

    clients = []

    def make(role: str = "auditor", medins_code: str | None = None) -> TestClient:
        app = FastAPI()
        app.include_router(router)
        app.state.store_path = web_region
        viewer = Viewer(username=f"t-{role}", role=role, medins_code=medins_code)
        app.state.web_viewer = lambda request: viewer
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()
