"""Small valid datasets written as files, for the ingest tests."""

from __future__ import annotations

import csv
from pathlib import Path

MEDINS = [
    {
        "medins_code": "H37010001",
        "medins_name": "市第一人民医院",
        "medins_lv": "3",
        "medins_type": "general",
    },
]
SETL = [
    {
        "setl_id": f"S{i}",
        "mdtrt_id": f"M{i}",
        "psn_no": f"P{i}",
        "medins_code": "H37010001",
        "medcasno": f"MC{i}",
        "gend": "1" if i % 2 else "2",
        "age": str(30 + i),
        "insutype": "310",
        "med_type": "21",
        "adm_time": f"2024-03-0{i} 08:00:00",
        "dscg_time": f"2024-03-1{i} 10:00:00",
        "medfee_sumamt": "12000.50",
        "fund_pay_sumamt": "9000.00",
        "ownpay_amt": "0",
    }
    for i in range(1, 6)
]
DISE = [
    {
        "setl_id": "S1",
        "diag_srt_no": "1",
        "diag_code": "I21.000",
        "diag_name": "急性前壁心肌梗死",
        "maindiag_flag": "1",
    },
    {
        "setl_id": "S1",
        "diag_srt_no": "2",
        "diag_code": "E11.900",
        "diag_name": "2型糖尿病",
        "maindiag_flag": "0",
    },
    {
        "setl_id": "S2",
        "diag_srt_no": "1",
        "diag_code": "J18.900",
        "diag_name": "肺炎",
        "maindiag_flag": "1",
    },
    {
        "setl_id": "S3",
        "diag_srt_no": "1",
        "diag_code": "K35.800",
        "diag_name": "急性阑尾炎",
        "maindiag_flag": "1",
    },
]
OPRN = [
    {
        "setl_id": "S3",
        "oprn_srt_no": "1",
        "oprn_oprt_code": "47.0100",
        "oprn_oprt_name": "腹腔镜下阑尾切除术",
        "main_oprn_flag": "1",
    },
]
FEE = [
    {
        "feedetl_sn": str(n),
        "init_feedetl_sn": "",
        "mdtrt_id": f"M{1 + n % 5}",
        "fee_ocur_time": "2024-03-09 09:00:00",
        "med_list_codg": "001102000050000",
        "med_chrgitm_type": "01",
        "cnt": "1",
        "pric": "50",
        "det_item_fee_sumamt": "50",
    }
    for n in range(1, 21)
]


def write_csv(
    path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def write_dataset(folder: Path, **overrides: list[dict[str, str]]) -> Path:
    """A valid dataset; ``overrides`` replaces the rows of a table (by table name)."""
    tables = {
        "medins": MEDINS,
        "setl_list": SETL,
        "diseinfo": DISE,
        "oprninfo": OPRN,
        "feedetail": FEE,
    }
    tables.update(overrides)
    for name, rows in tables.items():
        if rows:
            write_csv(folder / f"{name}.csv", rows)
    return folder


def quarantined(store: object, table: str) -> list[tuple]:
    """(row_number, field, reason_code) of the quarantined rows of ``table``."""
    return store.con.sql(  # type: ignore[attr-defined]
        "select row_number, field, reason_code from quarantine where table_name = ? order by 1",
        params=[table],
    ).fetchall()
