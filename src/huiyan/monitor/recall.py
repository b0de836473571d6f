"""Warning recall and false alarms on a region with planted drifts (``synth --drift`` labels).

A drift is found when its subject warns in a period from the drift's start on. A subject that
warns is a false alarm unless it is a drift subject, or a department/doctor/institution that
contains or is contained in one (a drifting department moves its institution). Subjects per
level are those with at least ``min_cases`` cases in some warn period.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huiyan.model.monitor_tables import INDICATOR
from huiyan.model.tables import WARNING

if TYPE_CHECKING:
    from huiyan.engine import Engine

LEVELS = ("institution", "department", "doctor")


@dataclass
class DriftRecall:
    drifts: list[dict[str, Any]]  # kind, level, subject, warned, indicators that warned
    subjects: dict[str, int]
    false_alarms: dict[str, int]
    decoy_warned: bool

    def per_100(self, level: str) -> float:
        return 100.0 * self.false_alarms[level] / max(1, self.subjects[level])


def _quarter(month: str) -> str:
    year, m = month.split("-")
    return f"{year}-Q{(int(m) - 1) // 3 + 1}"


def evaluate_drifts(store: Engine, drift_csv: str | Path, config: dict[str, Any]) -> DriftRecall:
    with Path(drift_csv).open(encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    cfg = config["monitor"]
    w = store.table(WARNING.name).select("level", "subject", "period", "indicator")
    warns = [tuple(r.values()) for r in store.to_arrow(w).to_pylist()]
    wp = cfg["warn_period"]
    drifts = []
    for d in labels:
        if d["kind"] == "decoy":
            continue
        start = _quarter(d["start"]) if wp == "quarter" else d["start"]
        hits = sorted(
            {w[3] for w in warns if w[0] == d["level"] and w[1] == d["subject"] and w[2] >= start}
        )
        drifts.append({**d, "warned": bool(hits), "warned_by": "|".join(hits)})
    decoy = {d["subject"] for d in labels if d["kind"] == "decoy"}
    drift_inst = {d["medins_code"] for d in labels if d["kind"] != "decoy"}
    drift_subjects = {d["subject"] for d in labels if d["kind"] != "decoy"}
    subjects, false = {}, {}
    for level in LEVELS:
        ind = store.table(INDICATOR.name)
        big = ind.filter(
            (ind.level == level)
            & (ind.period_type == wp)
            & (ind.indicator == "cases")
            & (ind.value >= cfg["min_cases"][level])
        )
        n = store.to_arrow(big.aggregate(n=big.subject.nunique())).column("n")[0].as_py()
        subjects[level] = int(n or 0)
        warned = {w[1] for w in warns if w[0] == level}
        false[level] = sum(
            1
            for s in warned
            if s not in drift_subjects
            and not (level == "institution" and s in drift_inst)
            and not (level != "institution" and s.split("/")[0] in drift_inst)
        )
    decoy_warned = any(w[0] == "institution" and w[1] in decoy for w in warns)
    return DriftRecall(drifts, subjects, false, decoy_warned)
