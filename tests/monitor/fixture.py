"""A hand-built four-case region (one institution, March 2025) whose indicators are computed by
hand in test_indicators.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow as pa

from huiyan.engine import Store


def _t(day: int) -> datetime:
    return datetime(2025, 3, day, 10, 0, 0)


def _d(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


# setl_id, psn, caty, doctor, adm day, dscg day, cost, fund, ownpay, dscg_way, status, drg,
# weight, case_type, standard payment
CASES = [
    ("S1", "P1", "A01", "D1", 1, 5, 1000, 700, 100, "1", "SUCCESS", "EB15", 2.0, "normal", 1200),
    ("S2", "P1", "A01", "D1", 10, 12, 200, 150, 0, "1", "SUCCESS", "ER23", 1.0, "low", 500),
    ("S3", "P2", "A02", "D2", 1, 21, 3000, 2000, 300, "5", "SUCCESS", "ER23", 1.0, "high", 500),
    ("S4", "P3", "A02", "D2", 5, 6, 500, 400, 0, "1", "FAIL", "0000", None, "ungroupable", 0),
]
# mdtrt_id, med_chrgitm_type, amount
FEES = [
    ("M1", "09", 300),
    ("M1", "08", 100),
    ("M1", "05", 600),
    ("M2", "09", 200),
    ("M3", "05", 3000),
]
# setl_id, amount, sev_deg
FINDINGS = [("S1", 50, "1"), ("S3", 100, "2"), ("S3", 200, "1")]


def load(store: Store) -> None:
    """Write the fixture's tables into ``store``."""
    store.write(
        "medins",
        pa.table({"medins_code": ["H1"], "medins_lv": ["3"], "medins_type": ["general"]}),
    )
    col = list(zip(*CASES, strict=True))
    n = len(CASES)
    store.write(
        "setl_list",
        pa.table(
            {
                "setl_id": list(col[0]),
                "mdtrt_id": [s.replace("S", "M") for s in col[0]],
                "psn_no": list(col[1]),
                "medins_code": ["H1"] * n,
                "insutype": ["310"] * n,
                "dscg_caty": list(col[2]),
                "chfpdr_code": list(col[3]),
                "adm_time": [_t(d) for d in col[4]],
                "dscg_time": [_t(d) for d in col[5]],
                "medfee_sumamt": [_d(x) for x in col[6]],
                "fund_pay_sumamt": [_d(x) for x in col[7]],
                "ownpay_amt": [_d(x) for x in col[8]],
                "dscg_way": list(col[9]),
                "days_rinp_flag_31": ["1"] * n,
            }
        ),
    )
    store.write(
        "drg_result",
        pa.table(
            {
                "setl_id": list(col[0]),
                "scheme": ["chs-drg-1.1"] * n,
                "status": list(col[10]),
                "mdc": [d[0] for d in col[11]],
                "adrg": [d[:3] for d in col[11]],
                "drg": list(col[11]),
            }
        ),
    )
    store.write(
        "payment",
        pa.table(
            {
                "setl_id": list(col[0]),
                "medins_code": ["H1"] * n,
                "method": ["DRG"] * n,
                "group": list(col[11]),
                "weight_or_score": list(col[12]),
                "case_type": list(col[13]),
                "standard_payment": [_d(x) for x in col[14]],
                "actual_cost": [_d(x) for x in col[6]],
                "difference": [_d(a - b) for a, b in zip(col[14], col[6], strict=True)],
            }
        ),
    )
    store.write(
        "feedetail",
        pa.table(
            {
                "feedetl_sn": [f"F{i}" for i in range(len(FEES))],
                "mdtrt_id": [f[0] for f in FEES],
                "fee_ocur_time": [_t(2)] * len(FEES),
                "med_list_codg": ["X"] * len(FEES),
                "med_chrgitm_type": [f[1] for f in FEES],
                "cnt": [Decimal(1)] * len(FEES),
                "pric": [Decimal(f[2]) for f in FEES],
                "det_item_fee_sumamt": [_d(f[2]) for f in FEES],
            }
        ),
    )
    store.write(
        "finding",
        pa.table(
            {
                "jr_id": [f"J{i}" for i in range(len(FINDINGS))],
                "rule_id": ["R"] * len(FINDINGS),
                "rule_name": ["r"] * len(FINDINGS),
                "vola_bhvr_type": ["UPCODE"] * len(FINDINGS),
                "sev_deg": [f[2] for f in FINDINGS],
                "setl_id": [f[0] for f in FINDINGS],
                "medins_code": ["H1"] * len(FINDINGS),
                "vola_amt": [_d(f[1]) for f in FINDINGS],
                "vola_cont": ["x"] * len(FINDINGS),
                "vola_evid": ["x"] * len(FINDINGS),
                "stage": ["post"] * len(FINDINGS),
            }
        ),
    )


# psn_no, day in March (negative: February), amount; S1 (P1) 03-01..03-05, S2 (P1) 03-10..03-12.
OUTPATIENT = [("P1", -27, 80), ("P1", 8, 40), ("P2", -1, 500)]


def load_outpatient(store: Store) -> None:
    """Outpatient visits: 80 three days before S1, 40 between S1 and S2, 500 a month before S3."""
    days = [datetime(2025, 2, -d, 9) if d < 0 else _t(d) for _, d, _ in OUTPATIENT]
    store.write(
        "mz_setl",
        pa.table(
            {
                "setl_id": [f"O{i}" for i in range(len(OUTPATIENT))],
                "mdtrt_id": [f"OM{i}" for i in range(len(OUTPATIENT))],
                "psn_no": [p for p, _, _ in OUTPATIENT],
                "medins_code": ["H1"] * len(OUTPATIENT),
                "setl_time": days,
                "medfee_sumamt": [_d(a) for _, _, a in OUTPATIENT],
            }
        ),
    )
