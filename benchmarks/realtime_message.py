"""Micro-benchmark of reading a 3101 message into Arrow tables: the slow path and the fast path.

    .venv/bin/python benchmarks/realtime_message.py [--cases 400] [--seed 3] [--repeat 30]

Generates a small synthetic region (no store, no grouping: its settlement, diagnosis, operation
and order rows only), turns each encounter with 30-150 order lines into a 3101 message with
``to_message`` (as ``benchmarks/realtime.py`` sends them) and times, for every message, the slow
path (``parse`` + ``to_arrow``: what the router did before) and the fast path (``read``: its
tables come with it). Each message is timed ``--repeat`` times and its fastest time kept, so
that other work on the machine does not count; the mean over messages is printed for all of
them and for those with 120-150 orders. Also checks that the fast path took every message and
gave the slow path's tables.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from huiyan.model.tables import TABLES  # noqa: E402
from huiyan.service.realtime.mapping import parse, read, to_arrow, to_messages  # noqa: E402
from huiyan.synth.generate import generate  # noqa: E402

NAMES = ("setl_list", "diseinfo", "oprninfo", "feedetail")


def messages(cases: int, seed: int) -> list[dict[str, Any]]:
    """The 3101 messages of the region's encounters with 30-150 order lines."""
    with tempfile.TemporaryDirectory(prefix="huiyan-msg-") as tmp:
        generate(Path(tmp) / "data", cases=cases, seed=seed, fmt="parquet")
        t = {
            n: TABLES[n].conform(pq.read_table(Path(tmp) / "data" / f"{n}.parquet")) for n in NAMES
        }
    encounter = lambda m: m["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]  # noqa: E731
    return [m for m in to_messages(t) if 30 <= len(encounter(m)["fsi_order_dtos"]) <= 150]


def slow(body: dict[str, Any]) -> Any:
    return to_arrow(parse(body).encounters)


def fast(body: dict[str, Any]) -> Any:
    return read(body).arrow


def best_us(fn: Any, body: dict[str, Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(body)
        times.append(time.perf_counter() - t0)
    return min(times) * 1e6


def orders(body: dict[str, Any]) -> int:
    return len(body["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()

    msgs = messages(args.cases, args.seed)
    taken = 0
    for m in msgs:
        got, want = read(m).arrow, slow(m)
        if got is not None:
            taken += 1
            assert all(got[n].equals(want[n], check_metadata=True) for n in NAMES), "tables differ"
    print(
        f"messages with 30-150 orders: {len(msgs)} (mean {statistics.mean(map(orders, msgs)):.0f})"
    )
    print(f"taken by the fast path: {taken} of {len(msgs)}, tables identical to the slow path's")
    for fn in (slow, fast):  # warm-up: imports, caches, Arrow's first calls
        for m in msgs[:20]:
            fn(m)
    gc.collect()
    rows = []
    for m in msgs:
        rows.append((orders(m), best_us(slow, m, args.repeat), best_us(fast, m, args.repeat)))
    big = [r for r in rows if r[0] >= 120]
    for label, sel in (("30-150 orders", rows), ("120-150 orders", big)):
        if not sel:
            continue
        s = statistics.mean(r[1] for r in sel)
        f = statistics.mean(r[2] for r in sel)
        print(
            f"{label} ({len(sel)} messages): parse+to_arrow {s:,.0f} µs, "
            f"read (fast path) {f:,.0f} µs, {s / f:.1f}x"
        )


if __name__ == "__main__":
    main()
