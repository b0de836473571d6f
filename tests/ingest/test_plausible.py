"""Plausibility at the door: absurd dates, amounts, quantities and non-numbers are quarantined.

The bounds come from the ``ingest`` configuration section (kb/data/config/ingest.yaml), so a
value no later step can process (an overflowing sum, a date 8,000 years out) never gets in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.ingest.builders import FEE, SETL, quarantined, write_csv, write_dataset

from huiyan.engine import Store
from huiyan.ingest import ingest
from huiyan.kb import config as kb_config


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("adm_time", "1970-01-01 00:00:00", "implausible"),
        ("dscg_time", "9999-12-31 00:00:00", "implausible"),
        ("medfee_sumamt", "99999999999999.99", "implausible"),
        ("age", "200", "implausible"),
        ("age", "0x1A", "type"),
        ("age", "1_000", "type"),
        ("age", "12.5", "type"),
        ("age", "0b11", "type"),
        ("medfee_sumamt", "NaN", "type"),
        ("medfee_sumamt", "inf", "type"),
        ("medfee_sumamt", "1e400", "type"),
        ("medfee_sumamt", "9" * 1000, "type"),
        ("bld_amt", "NaN", "implausible"),
        ("bld_amt", "-inf", "implausible"),
        ("bld_amt", "1e400", "implausible"),
        ("brdy", "1800-01-01", "implausible"),
    ],
)
def test_implausible_value_is_quarantined(
    store: Store, data_dir: Path, field: str, value: str, code: str
) -> None:
    rows = [r | {field: r.get(field, "")} for r in SETL]
    rows[1][field] = value
    write_dataset(data_dir, setl_list=rows)
    report = ingest(data_dir, store)
    assert quarantined(store, "setl_list") == [(2, field, code)]
    c = report.tables["setl_list"]
    assert (c.read, c.accepted, c.quarantined) == (len(SETL), len(SETL) - 1, 1)


def test_values_at_the_bounds_are_accepted(store: Store, data_dir: Path) -> None:
    rows = [r | {"brdy": "", "bld_amt": ""} for r in SETL]
    rows[0] |= {"age": "150", "brdy": "1880-01-01", "medfee_sumamt": "100000000.00"}
    rows[1] |= {"adm_time": "2000-01-01 00:00:00", "dscg_time": "2037-12-31 23:59:59"}
    rows[2] |= {"age": "12.0", "bld_amt": "1e3"}
    write_dataset(data_dir, setl_list=rows)
    ingest(data_dir, store)
    assert quarantined(store, "setl_list") == []
    got = store.con.sql(
        "select age, medfee_sumamt, bld_amt from setl_list where setl_id in ('S1', 'S3') order by 1"
    ).fetchall()
    assert [(g[0], float(g[1]), g[2]) for g in got] == [(12, 12000.5, 1000.0), (150, 1e8, None)]


def test_fee_lines_far_in_the_past_or_of_absurd_quantity(store: Store, data_dir: Path) -> None:
    fees = [dict(r) for r in FEE]
    fees[0]["fee_ocur_time"] = "1900-01-01 00:00:00"
    fees[1]["cnt"] = "99999999999999"
    write_dataset(data_dir, feedetail=fees)
    ingest(data_dir, store)
    assert quarantined(store, "feedetail") == [
        (1, "fee_ocur_time", "implausible"),
        (2, "cnt", "implausible"),
    ]


def test_bounds_are_configurable(store: Store, data_dir: Path) -> None:
    rows = [dict(r) for r in SETL]
    rows[0]["age"] = "120"
    write_dataset(data_dir, setl_list=rows)
    cfg = kb_config.load(None)
    cfg["ingest"]["fields"]["setl_list.age"] = [0, 110]
    ingest(data_dir, store, cfg)
    (reason,) = store.con.sql("select reason from quarantine").fetchall()[0]
    assert quarantined(store, "setl_list") == [(1, "age", "implausible")]
    assert "0~110" in reason and "年龄" in reason


def test_knowledge_catalogue_dates_are_not_bounded_but_nan_limits_are(
    store: Store, data_dir: Path
) -> None:
    write_dataset(data_dir)
    write_csv(
        data_dir / "hilist.csv",
        [
            {"hilist_code": "A1", "hilist_name": "甲", "lmt_age_min": "NaN"},
            {"hilist_code": "A2", "hilist_name": "乙", "lmt_age_min": "18"},
        ],
    )
    ingest(data_dir, store)
    assert quarantined(store, "hilist") == [(1, "lmt_age_min", "implausible")]
