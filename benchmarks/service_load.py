"""Load test of the review service: concurrent reviewers on loopback for a fixed time.

    .venv/bin/python benchmarks/service_load.py [--users 50] [--seconds 60] [--workers 2]
        [--findings 20000] [--state postgresql://...] [--think 0]

Starts ``huiyan serve`` (uvicorn, ``--workers``) on 127.0.0.1 over a generated store, creates
``--users`` auditors, assigns each an equal share of the findings, then every virtual user loops
for ``--seconds``: list its pending items, open one, decide it (confirm / partially confirm /
dismiss, with the item's version). The client is a small asyncio HTTP/1.1 keep-alive client so
that the load generator leaves the CPU to the server. Prints requests/s, p50/p95/p99 per kind,
errors, and checks afterwards that every successful decision is recorded exactly once (items
decided, audit-log entries) and that the audit chain verifies. Target (issue 15): 50 users,
60 s, 2 cores: p95 <= 200 ms, no errors, no lost or doubled decision.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from sqlalchemy import func, select, text

from huiyan.engine import Store
from huiyan.model import table
from huiyan.review import auditlog
from huiyan.review.db import AuditEntry, ReviewItem, User, make_engine, session_factory
from huiyan.review.migrate import upgrade
from huiyan.review.passwords import hash_password

PASSWORD = "load-test-password"


def make_store(path: Path, n: int, hospitals: int = 20) -> None:
    rng = random.Random(7)
    t = table("finding")
    rows = {c: [] for c in t.columns}
    for i in range(n):
        r = {
            "jr_id": f"J{i:07d}",
            "rule_id": f"R-{i % 37:02d}",
            "rule_name": "负载测试规则",
            "vola_bhvr_type": "OVERTREAT",
            "sev_deg": "2",
            "setl_id": f"S{i:07d}",
            "mdtrt_id": f"M{i:07d}",
            "psn_no": f"P{rng.randrange(n // 3 + 1):07d}",
            "medins_code": f"H{i % hospitals:03d}",
            "vola_amt": Decimal(rng.randrange(1_000, 500_000)) / 100,
            "vola_cont": "重复收费 某项目 2 次, 联系电话13812345678",
            "vola_evid": "《条例》第十五条",
            "detail": str(i),
            "stage": "post",
        }
        for c in t.columns:
            rows[c].append(r.get(c))
    with Store(path) as s:
        s.write(
            "finding", pa.table({c: pa.array(v, t.schema.field(c).type) for c, v in rows.items()})
        )


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of the server and its worker processes so far."""
    import psutil

    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def wait_idle(pid: int, limit: float = 120.0) -> None:
    """Wait until the server's start-up work (each worker compiles the real-time rules in the
    background) is done: its CPU would otherwise count against the first seconds of the run."""
    end = time.monotonic() + limit
    before, quiet = server_cpu(pid), 0
    while time.monotonic() < end and quiet < 2:
        time.sleep(0.5)
        now = server_cpu(pid)
        quiet = quiet + 1 if now - before < 0.05 else 0
        before = now


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """One keep-alive HTTP/1.1 connection (JSON in, status + JSON out)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, token: str | None = None, body: object = None
    ) -> tuple[int, object]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        # A body given as bytes is sent as is (a load generator encodes its messages once).
        data = (
            b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        )
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(data)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        await self.writer.drain()
        assert self.reader is not None
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode().partition(":")
            if k.lower() == "content-length":
                length = int(v)
            elif k.lower() == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
        if chunked:
            payload = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                payload += await self.reader.readexactly(size)
                await self.reader.readline()
        else:
            payload = await self.reader.readexactly(length)
        try:
            return status, (json.loads(payload) if payload else None)
        except ValueError:
            return status, payload.decode(errors="replace")


async def user_loop(
    port: int, name: str, deadline: float, think: float, stats: dict, rng: random.Random
) -> None:
    http = Http(port)
    status, tok = await http.request(
        "POST", "/api/v1/auth/token", body={"username": name, "password": PASSWORD}
    )
    assert status == 200, tok
    token = tok["access_token"]  # type: ignore[index]
    me = (await http.request("GET", "/api/v1/auth/me", token))[1]["id"]  # type: ignore[index]

    async def call(kind: str, method: str, path: str, body: object = None) -> tuple[int, object]:
        t0 = time.perf_counter()
        status, out = await http.request(method, path, token, body)
        stats["lat"].setdefault(kind, []).append(time.perf_counter() - t0)
        if status >= 400:
            stats["errors"].append((kind, status, str(out)[:200]))
        return status, out

    while time.perf_counter() < deadline:
        _, page = await call(
            "list", "GET", f"/api/v1/reviews?assignee_id={me}&state=pending&limit=10"
        )
        items = page["items"] if isinstance(page, dict) else []  # type: ignore[index]
        if not items:
            break
        for it in items[:3]:
            if time.perf_counter() >= deadline:
                break
            await asyncio.sleep(think)
            status, item = await call("get", "GET", f"/api/v1/reviews/{it['id']}")
            if status != 200 or not isinstance(item, dict):
                continue  # counted as an error by call()
            outcome = rng.choice(["confirmed", "confirmed", "partial", "dismissed"])
            body: dict[str, object] = {
                "outcome": outcome,
                "reason": "R01",
                "version": item["version"],
            }  # type: ignore[index]
            if outcome == "partial":
                body["amount"] = str((Decimal(item["vola_amt"]) / 2).quantize(Decimal("0.01")))  # type: ignore[index]
            status, _ = await call("decide", "POST", f"/api/v1/reviews/{it['id']}/initial", body)
            if status == 200:
                stats["decided"].append(it["id"])
            await asyncio.sleep(think)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000 if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--findings", type=int, default=20_000)
    ap.add_argument(
        "--state", default=None, help="workflow DB URL (default: SQLite file in a temp dir)"
    )
    ap.add_argument(
        "--think", type=float, default=0.0, help="seconds a reviewer pauses between requests"
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="huiyan-load-"))
    store = tmp / "region.duckdb"
    state = args.state or str(tmp / "state.sqlite")
    schema = None
    if state.startswith("postgres"):
        # A schema of its own, dropped afterwards: the server's database stays as it was.
        schema = f"huiyan_load_{os.getpid()}"
        admin = make_engine(state, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        state += ("&" if "?" in state else "?") + f"options=-csearch_path%3D{schema}"
    make_store(store, args.findings)
    engine = make_engine(state)
    upgrade(engine)
    Write = session_factory(engine, write=True)
    with Write() as s:
        h = hash_password(PASSWORD)
        for i in range(args.users):
            s.add(User(username=f"load{i:03d}", password_hash=h, role="auditor"))
        s.commit()

    port = free_port()
    env = {**os.environ, "HUIYAN_SNAPSHOT_POLL_SECONDS": "5"}
    cmd = [
        sys.executable,
        "-m",
        "huiyan.cli.main",
        "serve",
        "--db",
        str(store),
        "--state",
        state,
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--attachments",
        str(tmp / "att"),
    ]
    # The server's log goes to a file: a pipe nobody reads during the run fills up and then
    # blocks the workers at their next log line.
    server_log = tmp / "server.log"
    log_file = server_log.open("wb")
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        # wait until the findings are imported (the first worker publishes the snapshot)
        for _ in range(600):
            with Write() as s:
                n = s.scalar(select(func.count()).select_from(ReviewItem))
            if n == args.findings:
                break
            time.sleep(0.2)
        with Write() as s:
            ids = [
                u.id
                for u in s.scalars(select(User).where(User.role == "auditor").order_by(User.id))
            ]
            items = s.scalars(select(ReviewItem).order_by(ReviewItem.id)).all()
            for k, item in enumerate(items):
                item.assignee_id = ids[k % len(ids)]
            s.commit()
        wait_idle(server.pid)

        stats: dict = {"lat": {}, "errors": [], "decided": []}
        cpu0 = server_cpu(server.pid)
        client0 = time.process_time()
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        deadline = t0 + args.seconds

        async def run_all() -> None:
            await asyncio.gather(
                *(
                    user_loop(port, f"load{i:03d}", deadline, args.think, stats, random.Random(i))
                    for i in range(args.users)
                )
            )

        asyncio.run(run_all())
        elapsed = time.perf_counter() - t0
        cpu = server_cpu(server.pid) - cpu0
        client_cpu = time.process_time() - client0
        load1 = os.getloadavg()[0]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log_file.close()
        err = server_log.read_bytes()
        if err and (server.returncode not in (0, -15) or b"Traceback" in err):
            print(err.decode(errors="replace")[-3000:])

    all_lat = [x for v in stats["lat"].values() for x in v]
    n = len(all_lat)
    print(
        f"users {args.users}, workers {args.workers}, {elapsed:.1f} s, think {args.think} s, "
        f"state {'PostgreSQL' if state.startswith('postgres') else 'SQLite'}"
    )
    print(f"requests {n:,}  throughput {n / elapsed:.1f} req/s  errors {len(stats['errors'])}")
    print(
        f"server CPU {cpu:.1f} s = {cpu / max(n, 1) * 1000:.2f} ms per request "
        "(the figure least disturbed by other load on the machine); "
        f"load client CPU {client_cpu:.1f} s"
    )
    # The machine's 1-minute load average: on 2 cores, anything above ~2 means other processes
    # took CPU from this run and its latencies are pessimistic.
    print(f"load average (1 min) at start {load0:.2f}, at end {load1:.2f}")
    print(
        f"latency ms  p50 {pct(all_lat, 50):.1f}  p95 {pct(all_lat, 95):.1f}  p99 {pct(all_lat, 99):.1f}"
    )
    for kind, v in sorted(stats["lat"].items()):
        print(
            f"  {kind:7s} n={len(v):6,}  p50 {pct(v, 50):6.1f}  p95 {pct(v, 95):6.1f}  max {max(v) * 1000:6.1f}"
        )
    for e in stats["errors"][:5]:
        print("  error:", e)

    decided = stats["decided"]
    with Write() as s:
        in_db = s.scalar(
            select(func.count()).select_from(ReviewItem).where(ReviewItem.initial_by.is_not(None))
        )
        logged = s.scalars(
            select(AuditEntry.object_id).where(AuditEntry.action == "initial_review")
        ).all()
        chain = auditlog.verify(s)
    ok = len(decided) == len(set(decided)) == in_db == len(logged) == len(set(logged))
    print(
        f"decisions: acknowledged {len(decided):,}, in database {in_db:,}, audit entries {len(logged):,} "
        f"-> {'no lost or doubled decision' if ok else 'MISMATCH'}; audit chain {'ok' if chain.ok else 'BROKEN'}"
    )
    p95 = pct(all_lat, 95)
    print(
        f"target p95 <= 200 ms, no errors: {'MET' if p95 <= 200 and not stats['errors'] and ok else 'NOT MET'}"
    )
    engine.dispose()
    if schema:
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
