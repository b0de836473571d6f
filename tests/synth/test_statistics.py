"""Statistical sanity: LOS and cost medians by hospital level and MDC within stated ranges."""

from __future__ import annotations

import statistics
from pathlib import Path

import pyarrow.csv as pacsv

from huiyan.synth import generate


def test_los_and_cost_medians_by_level_and_mdc(tmp_path: Path) -> None:
    report = generate(tmp_path / "data", cases=3000, seed=4, months=2, violation_rate=0.0)
    setl = pacsv.read_csv(report.out_dir / "setl_list.csv").to_pylist()
    lv = {
        m["medins_code"]: m["medins_lv"]
        for m in pacsv.read_csv(report.out_dir / "medins.csv").to_pylist()
    }
    by_level: dict[int, list[dict]] = {}
    for s in setl:
        by_level.setdefault(lv[s["medins_code"]], []).append(s)
    los = {k: statistics.median(s["act_ipt_days"] for s in v) for k, v in by_level.items()}
    cost = {k: statistics.median(float(s["medfee_sumamt"]) for s in v) for k, v in by_level.items()}
    # Stated ranges: national inpatient medians are about 7–10 days and 5,000–15,000 yuan at
    # level-3 hospitals; lower levels keep shorter, cheaper stays.
    assert 5 <= los[3] <= 12 and 3 <= los[1] <= 10
    assert 4000 <= cost[3] <= 20000 and 1000 <= cost[1] <= 8000
    assert cost[1] < cost[2] < cost[3]
    # Circulatory (MDCF, departments A03.04/A04.06) costs more than psychiatry stays per day.
    f = [s for s in setl if s["dscg_caty"] in ("A03.04", "A04.06")]
    assert 4 <= statistics.median(s["act_ipt_days"] for s in f) <= 12
