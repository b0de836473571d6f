"""Benchmark: dashboard page times (server side) on a generated region's result store.

    .venv/bin/python benchmarks/dashboard.py [--cases 200000] [--db bench-data/dashboard.duckdb]

Builds the store once (synth + the whole pipeline + one monthly settlement; kept at ``--db``
for later runs), then times each page in-process through the ASGI app: the snapshot warm-up
(the in-memory case cube, built once per published store), the first view of each page on a
warm snapshot, and the warm view (median of 5, served from the per-snapshot cache). Pages are
timed for the bureau auditor and for one hospital user. The issue's target is ≤ 1 s per page.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import run_steps
from huiyan.settlement.run import settle
from huiyan.synth import generate


def build(db: Path, cases: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="huiyan-dash-"))
    t = time.perf_counter()
    generate(tmp / "data", cases=cases, seed=3, fmt="parquet", labels_dir=tmp / "labels")
    cfg = config.load(None)
    db.parent.mkdir(parents=True, exist_ok=True)
    with Store(db) as store:
        run_steps(RunContext(engine=store, config=cfg, data_dir=tmp / "data", show_progress=False))
        settle(store, cfg, period="2025-12")
    print(f"built store {db} ({cases:,} cases) in {time.perf_counter() - t:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=200_000)
    ap.add_argument("--db", type=Path, default=Path("bench-data/dashboard.duckdb"))
    args = ap.parse_args()
    if not args.db.exists():
        build(args.db, args.cases)

    import duckdb
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from huiyan.service.web import Reader, Viewer, router

    con = duckdb.connect(str(args.db), read_only=True)
    n_cases = con.sql("select count(*) from setl_list").fetchall()[0][0]
    n_fees = con.sql("select count(*) from feedetail").fetchall()[0][0]
    hosp, jr = con.sql(
        "select medins_code, jr_id from finding order by vola_amt desc limit 1"
    ).fetchall()[0]
    # A case of the same hospital not shown by the finding page (its first view is not cached).
    setl = con.sql(
        "select max(setl_id) from setl_list where medins_code = ? "
        "and setl_id not in (select setl_id from finding)",
        params=[hosp],
    ).fetchall()[0][0]
    con.close()
    print(f"store: {n_cases:,} settlements, {n_fees:,} fee lines")

    reader = Reader(args.db)
    t = time.perf_counter()
    reader.warm()
    print(f"snapshot warm-up (case cube): {time.perf_counter() - t:.2f} s")

    def client(viewer: Viewer) -> TestClient:
        app = FastAPI()
        app.include_router(router)
        app.state.web_reader = reader
        app.state.web_viewer = lambda request: viewer
        return TestClient(app)

    pages = [
        "/",
        "/institutions",
        f"/institutions/{hosp}",
        "/groups",
        "/findings",
        "/findings?vola_bhvr_type=SPLIT",
        f"/findings/{jr}",
        f"/cases/{setl}",
        "/rules",
        "/settlement",
    ]
    # Downloads are not page views: timed apart (a workbook is built once per snapshot).
    downloads = ["/findings?xlsx=findings", f"/institutions/{hosp}?xlsx=groups"]
    worst = 0.0
    for who, viewer in (
        ("auditor", Viewer("bench", "auditor")),
        ("hospital", Viewer("bench-h", "hospital", hosp)),
    ):
        with client(viewer) as c:
            print(f"\n{who:<9} {'page':<44} {'first s':>8} {'warm s':>8}")
            for p in pages + downloads:
                t = time.perf_counter()
                r = c.get(p)
                first = time.perf_counter() - t
                assert r.status_code == 200, (p, r.status_code, r.text[:200])
                warm = []
                for _ in range(5):
                    t = time.perf_counter()
                    c.get(p)
                    warm.append(time.perf_counter() - t)
                w = statistics.median(warm)
                if p not in downloads:
                    worst = max(worst, first)
                print(f"{'':<9} {p[:44]:<44} {first:>8.3f} {w:>8.3f}")
    print(f"\nslowest first page view: {worst:.3f} s (target ≤ 1 s; downloads excluded)")
    reader.close()


if __name__ == "__main__":
    main()
