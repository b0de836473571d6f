"""Benchmark: DRG weights + payment and DIP catalog + payment for N cases (default 1,000,000).

Generates drg_result / setl_list / diseinfo / oprninfo-shaped data with numpy (vectorised),
then times the ``price`` pipeline step. Usage: ``python benchmarks/pricing.py [N]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from huiyan.engine import Store
from huiyan.kb import config as kb_config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import price


def generate(store: Store, n: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    ids = np.char.add("S", np.arange(n).astype(str))
    n_groups, n_hosp = 600, 60
    g = rng.zipf(1.3, n) % n_groups
    drgs = np.array(
        [
            f"{chr(65 + i % 26)}{'RST'[i % 3]}{i % 9 + 1}{(1, 3, 5, 9)[i % 4]}"
            for i in range(n_groups)
        ]
    )
    base = rng.lognormal(9.0, 0.6, n_groups)
    cost = np.round(base[g] * rng.lognormal(0, 0.45, n), 2)
    hosp = rng.integers(0, n_hosp, n)
    year = 2022 + rng.choice(3, n, p=[0.2, 0.3, 0.5])
    dscg = (year - 1970) * 365.25 * 86400 + rng.integers(0, 360 * 86400, n)
    los = np.maximum(1, rng.poisson(8, n))
    status = np.where(rng.random(n) < 0.02, "QY", "SUCCESS")
    store.write(
        "medins",
        pa.table(
            {
                "medins_code": [f"H{i}" for i in range(n_hosp)],
                "medins_lv": [str(1 + i % 3) for i in range(n_hosp)],
            }
        ),
    )
    store.write(
        "setl_list",
        pa.table(
            {
                "setl_id": ids,
                "mdtrt_id": ids,
                "psn_no": ids,
                "medins_code": np.char.add("H", hosp.astype(str)),
                "insutype": np.full(n, "310"),
                "adm_time": pa.array((dscg - los * 86400).astype("int64"), pa.timestamp("s")),
                "dscg_time": pa.array(dscg.astype("int64"), pa.timestamp("s")),
                "medfee_sumamt": pa.array(cost).cast(pa.decimal128(16, 2)),
                "fund_pay_sumamt": pa.array(np.round(cost * 0.7, 2)).cast(pa.decimal128(16, 2)),
            }
        ),
    )
    store.write(
        "drg_result",
        pa.table(
            {
                "setl_id": ids,
                "scheme": np.full(n, "chs-drg-1.1"),
                "status": status,
                "mdc": np.char.ljust(drgs[g], 1)[:,]
                if False
                else np.array([d[0] for d in drgs])[g],
                "adrg": np.array([d[:3] for d in drgs])[g],
                "drg": drgs[g],
            }
        ),
    )
    dx = np.array([f"{chr(65 + i % 20)}{10 + i % 80:02d}.{i % 10}00" for i in range(3000)])
    store.write(
        "diseinfo",
        pa.table(
            {
                "setl_id": ids,
                "diag_srt_no": np.ones(n, "int32"),
                "diag_code": dx[rng.zipf(1.2, n) % 3000],
            }
        ),
    )
    has_op = rng.random(n) < 0.4
    op_codes = np.array([f"{i % 99:02d}.{i % 10000:04d}" for i in range(2000)])
    store.write(
        "oprninfo",
        pa.table(
            {
                "setl_id": ids[has_op],
                "oprn_srt_no": np.ones(has_op.sum(), "int32"),
                "oprn_oprt_code": op_codes[rng.zipf(1.3, has_op.sum()) % 2000],
            }
        ),
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as d, Store(Path(d) / "bench.duckdb") as store:
        t0 = time.perf_counter()
        generate(store, n)
        t1 = time.perf_counter()
        report = price.run(RunContext(store, kb_config.load()))
        t2 = time.perf_counter()
        print(f"generated {n:,} cases in {t1 - t0:.1f} s")
        print(
            f"price step (DRG weights + payment, DIP catalog + grouping + payment): {t2 - t1:.1f} s"
        )
        print(report.rows)


if __name__ == "__main__":
    main()
