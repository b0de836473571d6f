"""Assembling a rule's hits into finding rows: one per settlement, amounts to the fen, ids stable."""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal
from typing import Any

import pyarrow as pa

from huiyan.audit.findings import assemble, jr_id
from huiyan.audit.spec import registry

SCHEMA = pa.schema(
    [
        ("setl_id", pa.string()),
        ("mdtrt_id", pa.string()),
        ("psn_no", pa.string()),
        ("medins_code", pa.string()),
        ("unit", pa.string()),
        ("amount", pa.float64()),
        ("text", pa.string()),
    ]
)


def _hits(*rows: tuple[str | None, str | None, float | None, str | None]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"setl_id": s, "mdtrt_id": "M", "psn_no": "P", "medins_code": "H1", "unit": u}
            | {"amount": a, "text": t}
            for s, u, a, t in rows
        ],
        schema=SCHEMA,
    )


def _assemble(hits: pa.Table, template: str = "{hits}", limit: int = 10) -> list[dict[str, Any]]:
    spec = dataclasses.replace(registry()["DUPCHG-002"], template=template)
    out = assemble(spec, hits, stage="post", sev_deg="1", text_limit=limit)
    return sorted(out.to_pylist(), key=lambda r: r["setl_id"])


def test_one_finding_per_settlement_with_sorted_detail_and_texts_in_unit_order() -> None:
    got = _assemble(
        _hits(
            ("S1", "10", 1.0, "十"),
            ("S1", "2", 2.0, "二"),
            ("S1", "3|2", 0.5, "三"),
            ("S1", "10", 1.0, "十"),  # the same line proved twice counts once
            ("S1", "A7", 0.25, "甲"),
            ("S2", None, 4.0, "无明细"),
            (None, "9", 9.0, "no settlement"),
        )
    )
    assert [r["setl_id"] for r in got] == ["S1", "S2"]
    s1, s2 = got
    # Numeric serial numbers in numeric order, other units after them; duplicates merged.
    assert s1["detail"] == "2|3|10|A7"
    assert s1["vola_amt"] == Decimal("3.75")
    # Texts follow the units' text order ("10" < "2" < "3|2" < "A7").
    assert s1["vola_cont"] == "十；二；三；甲"
    assert s1["jr_id"] == jr_id("DUPCHG-002", "S1", "2|3|10|A7")
    assert s1["jr_id"] == hashlib.sha1(b"DUPCHG-002\x1fS1\x1f2|3|10|A7").hexdigest()[:20]
    assert s2["detail"] is None and s2["vola_amt"] == Decimal("4.00")
    assert s2["jr_id"] == jr_id("DUPCHG-002", "S2", None)


def test_amounts_round_half_up_to_the_fen_after_six_decimals() -> None:
    cases = {"A": 0.125, "B": -0.125, "C": 1.005, "D": 2.675, "E": 0.1 + 0.2, "F": None}
    got = _assemble(_hits(*((s, s, a, s) for s, a in cases.items())))
    amounts = {r["setl_id"]: r["vola_amt"] for r in got}
    assert amounts == {
        "A": Decimal("0.13"),
        "B": Decimal("-0.13"),
        "C": Decimal("1.01"),  # 1.005 is 1.00499999999999989... as a float, 1.005 at 6 decimals
        "D": Decimal("2.68"),
        "E": Decimal("0.30"),
        "F": Decimal("0.00"),
    }


def test_texts_beyond_the_limit_are_counted_and_the_template_applied() -> None:
    hits = _hits(*(("S1", str(i), 1.0, f"项{i % 4}") for i in range(1, 9)))
    (row,) = _assemble(hits, template="前{hits}后", limit=2)
    # Units in text order 1, 2, 3, 4, 5, 6, 7, 8: distinct texts 项1, 项2, 项3, 项0.
    assert row["vola_cont"] == "前项1；项2 等4项后"
    assert row["detail"] == "1|2|3|4|5|6|7|8"
    assert row["vola_amt"] == Decimal("8.00")


def test_no_hits_no_findings() -> None:
    assert _assemble(_hits()) == []


def test_concatenated_lines_give_the_same_finding_whatever_their_scan_order() -> None:
    # group_concat lists a group's lines in scan order, which no engine fixes.
    first = _assemble(_hits(("S1", "9|1", 3.0, "乙"), ("S1", "5", 1.0, "甲")))
    again = _assemble(_hits(("S1", "1|9", 3.0, "乙"), ("S1", "5", 1.0, "甲")))
    assert first == again
    # The text of the group of lines 1 and 9 comes first: its lowest line is 1.
    assert first[0]["vola_cont"] == "乙；甲"
    assert first[0]["detail"] == "1|5|9"
