from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from huiyan.engine import Store
from huiyan.report.summary import build_summary, write_summary_html


def _finding(setl_id: str, cls: str, amt: str) -> dict[str, object]:
    return {
        "jr_id": f"{setl_id}-{cls}",
        "rule_id": f"{cls}-001",
        "rule_name": "测试规则",
        "vola_bhvr_type": cls,
        "sev_deg": "1",
        "setl_id": setl_id,
        "vola_amt": Decimal(amt),
        "vola_cont": "内容",
        "vola_evid": "依据",
        "stage": "post",
    }


def test_evaluation_counts_hits_per_class(store: Store, tmp_path: Path) -> None:
    store.write(
        "finding",
        pa.Table.from_pylist(
            [
                _finding("s1", "FAKE", "10.00"),
                _finding("s2", "FAKE", "5.50"),
                _finding("s3", "SEX", "1"),
            ]
        ),
    )
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "setl_id,vola_bhvr_type,mechanism,detail,amount\n"
        "s1,FAKE,after_discharge,1,10.00\ns4,FAKE,after_discharge,2,3.00\ns3,SEX,item,3,1.00\n",
        encoding="utf-8",
    )
    summary = build_summary(store, labels=labels)
    by_title = {s.title: s for s in summary.sections}
    evaluation = by_title["检出效果 (对照植入标签)"]
    rows = {r[0]: r for r in evaluation.rows}
    # FAKE: planted s1, s4; flagged s1, s2 -> 1 hit, precision 50%, recall 50%.
    assert rows["FAKE"] == ["FAKE", 2, 2, 1, "50.0%", "50.0%"]
    assert rows["SEX"] == ["SEX", 1, 1, 1, "100.0%", "100.0%"]
    findings = by_title["智能审核"]
    fake = next(r for r in findings.rows if r[0].endswith("FAKE"))
    assert fake[1] == 2 and fake[4] == Decimal("15.50")


def test_html_has_only_sections_with_results(store: Store, tmp_path: Path) -> None:
    store.write("finding", pa.Table.from_pylist([_finding("s1", "BEDHANG", "30")]))
    html = write_summary_html(store, tmp_path / "r.html").read_text("utf-8")
    assert "智能审核" in html and "挂床住院" in html
    assert "DRG 分组" not in html


def test_money_has_thousands_separators(store: Store, tmp_path: Path) -> None:
    store.write("finding", pa.Table.from_pylist([_finding("s1", "BEDHANG", "1234567.5")]))
    html = write_summary_html(store, tmp_path / "r.html").read_text("utf-8")
    assert "1,234,567.50" in html and "1234567.50" not in html
