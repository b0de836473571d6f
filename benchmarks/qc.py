"""Benchmark: every QC check on N settlements (default 1,000,000), data generated vectorised.

    .venv/bin/python benchmarks/qc.py [N]

Prints seconds and settlements/s for running all checks and writing qc_issue/qc_indicator.
About 3 % of the settlements carry a planted defect so the checks have something to report.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.model import table
from huiyan.quality.service import run_qc

DIAGS = ["K35.800", "I21.000", "J18.900", "E11.900", "I10.x00", "C34.900", "S72.000"]
DIAG_NAMES = [
    "急性阑尾炎，其他未特指",
    "前壁急性透壁性心肌梗死",
    "肺炎",
    "2型糖尿病",
    "特发性（原发性）高血压",
    "支气管或肺恶性肿瘤",
    "股骨颈骨折",
]
FILLED = {
    "ntly": "CHN",
    "naty": "01",
    "patn_cert_type": "02",
    "certno": "X",
    "prfs": "17",
    "psn_name": "某",
    "curr_addr": "聊城",
    "emp_addr": "聊城",
    "coner_name": "某",
    "patn_rlts": "1",
    "coner_tel": "13800000000",
    "insuplc": "371502",
    "trt_type": "1",
    "adm_way": "2",
    "days_rinp_flag_31": "1",
    "chfpdr_name": "某",
    "chfpdr_code": "D1",
    "resp_nurs_name": "某",
    "biz_sn": "B",
    "bill_code": "1",
    "bill_no": "1",
    "hi_paymtd": "4",
    "medins_fill_dept": "病案室",
    "medins_fill_psn": "某",
    "otp_wm_dise": "发热",
    "wm_dise_code": "R50.900",
}
OPRNS = ["47.0900", "36.0600", "81.5100", "88.7200"]


def _s(prefix: str, idx: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, idx.astype(str)))


def generate(n: int, seed: int = 1) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    adm = np.datetime64("2024-01-01T08:00") + rng.integers(0, 360 * 24 * 60, n).astype(
        "timedelta64[m]"
    )
    los = rng.integers(1, 15, n)
    dscg = adm + (los * 24 * 60).astype("timedelta64[m]")
    age = rng.integers(1, 90, n)
    brdy = adm.astype("datetime64[D]") - (age * 365 + 200).astype("timedelta64[D]")
    age = ((adm.astype("datetime64[D]") - brdy).astype(int) // 365.2425).astype(int)
    total = np.round(rng.uniform(1000, 50000, n), 2)
    fund = np.round(total * 0.7, 2)
    defect = rng.random(n) < 0.03
    setl = {
        "setl_id": _s("S", i),
        "mdtrt_id": _s("M", i),
        "psn_no": _s("P", i),
        "medcasno": _s("MC", i),
        "medins_code": pa.array(np.char.add("H3715020", (i % 50).astype(str).astype("<U4"))),
        "hi_no": pa.array(np.where(defect, None, np.char.add("P", i.astype(str))).tolist()),
        "gend": pa.array(rng.choice(["1", "2"], n)),
        "brdy": pa.array(brdy),
        "age": pa.array(age, pa.int32()),
        "insutype": pa.array(np.full(n, "310")),
        "med_type": pa.array(np.full(n, "21")),
        "adm_time": pa.array(adm.astype("datetime64[s]")),
        "dscg_time": pa.array(dscg.astype("datetime64[s]")),
        "adm_caty": pa.array(np.full(n, "A03")),
        "dscg_caty": pa.array(np.full(n, "A03")),
        "act_ipt_days": pa.array(np.where(defect, los + 2, los), pa.int32()),
        "dscg_way": pa.array(np.full(n, "1")),
        "ntly": pa.array(np.full(n, "CHN")),
        "medfee_sumamt": pa.array(total),
        "fund_pay_sumamt": pa.array(fund),
        "ownpay_amt": pa.array(np.zeros(n)),
        "selfpay_amt": pa.array(np.round(total - fund, 2)),
        "diag_code_cnt": pa.array(np.full(n, 2), pa.int32()),
        "oprn_oprt_code_cnt": pa.array(np.full(n, 1), pa.int32()),
    }
    d1 = rng.integers(0, len(DIAGS), n)
    d2 = (d1 + 1) % len(DIAGS)
    dise = {
        "setl_id": pa.concat_arrays([_s("S", i), _s("S", i)]),
        "diag_srt_no": pa.array(np.r_[np.ones(n), np.full(n, 2)].astype(np.int32)),
        "diag_code": pa.array(np.array(DIAGS)[np.r_[d1, d2]]),
        "diag_name": pa.array(np.array(DIAG_NAMES)[np.r_[d1, d2]]),
        "maindiag_flag": pa.array(np.r_[np.full(n, "1"), np.full(n, "0")]),
        "adm_cond_type": pa.array(np.full(2 * n, "1")),
    }
    oprn = {
        "setl_id": _s("S", i),
        "oprn_srt_no": pa.array(np.ones(n, np.int32)),
        "oprn_oprt_code": pa.array(np.array(OPRNS)[rng.integers(0, len(OPRNS), n)]),
        "main_oprn_flag": pa.array(np.full(n, "1")),
        "oprn_oprt_begntime": pa.array((adm + np.timedelta64(60, "m")).astype("datetime64[s]")),
        "oprn_oprt_endtime": pa.array((adm + np.timedelta64(120, "m")).astype("datetime64[s]")),
    }
    # three fee lines per stay: bed days, a treatment, the rest as drugs; they sum to the total
    bed = los * 50.0
    treat = np.round(total * 0.3, 2)
    drug = np.round(total - bed - treat, 2)
    fee = {
        "feedetl_sn": pa.array(np.repeat(["F1", "F2", "F3"], n)),
        "mdtrt_id": pa.concat_arrays([_s("M", i)] * 3),
        "fee_ocur_time": pa.array(
            np.tile(adm + np.timedelta64(30, "m"), 3).astype("datetime64[s]")
        ),
        "med_list_codg": pa.array(
            np.repeat(["001109000010000", "003107000010000", "XJ01DDC093B002010102443"], n)
        ),
        "med_chrgitm_type": pa.array(np.repeat(["01", "05", "09"], n)),
        "cnt": pa.array(np.r_[los, np.ones(n), np.ones(n)].astype(float)),
        "pric": pa.array(np.r_[np.full(n, 50.0), treat, drug]),
        "det_item_fee_sumamt": pa.array(np.r_[bed, treat, drug]),
    }
    # every other mandatory field filled with a valid constant, so only planted defects fire
    for col, value in FILLED.items():
        setl.setdefault(col, pa.array(np.full(n, value)))
    dise["diag_type"] = pa.array(np.full(2 * n, "1"))
    return {
        name: table(name).conform(pa.table(cols))
        for name, cols in (
            ("setl_list", setl),
            ("diseinfo", dise),
            ("oprninfo", oprn),
            ("feedetail", fee),
        )
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        t0 = time.perf_counter()
        for name, data in generate(n).items():
            store.write(name, data, mode="replace")
        print(f"generated and loaded {n:,} settlements in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        result = run_qc(store, config.load())
        secs = time.perf_counter() - t0
        print(f"{len(result.issues):,} issues, {result.indicators.num_rows} indicator rows")
        print(f"all checks on {n:,} settlements: {secs:.1f} s ({n / secs:,.0f} settlements/s)")


if __name__ == "__main__":
    main()
