"""Warning recall and false alarms on synthetic regions with planted drifts.

    .venv/bin/python benchmarks/monitor_drift.py [--seeds 11 12] [--cases 40000] [--hospitals 24]

For each seed: ``huiyan synth --drift``, ``huiyan run``, then ``monitor.recall``. Prints, per
region, which drift warned (and on which indicators), whether the decoy warned, and false-alarm
subjects per 100 subjects of each level; then the totals.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.monitor.recall import LEVELS, evaluate_drifts

HUIYAN = [sys.executable, "-m", "huiyan.cli.main"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12])
    ap.add_argument("--cases", type=int, default=40_000)
    ap.add_argument("--hospitals", type=int, default=24)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="huiyan-drift-"))
    cfg = config.load(None)
    found = total = decoys = 0
    subjects = dict.fromkeys(LEVELS, 0)
    false = dict.fromkeys(LEVELS, 0)
    for seed in args.seeds:
        root = work / f"seed{seed}"
        subprocess.run(
            [*HUIYAN, "synth", str(root / "data"), "--cases", str(args.cases), "--seed", str(seed),
             "--hospitals", str(args.hospitals), "--drift", "--labels-dir", str(root / "labels")],
            check=True, capture_output=True,
        )  # fmt: skip
        db = root / "run.duckdb"
        subprocess.run(
            [*HUIYAN, "run", str(root / "data"), "--db", str(db)], check=True, capture_output=True
        )
        with Store(db, read_only=True) as store:
            r = evaluate_drifts(store, root / "labels" / "drift.csv", cfg)
        print(f"== seed {seed} ({args.cases:,} cases, {args.hospitals} hospitals)")
        for d in r.drifts:
            print(f"  {d['kind']:<18} {d['level']:<11} {d['subject']:<24} "
                  f"{'warned' if d['warned'] else 'MISSED':<7} {d['warned_by']}")  # fmt: skip
        print(f"  decoy warned: {r.decoy_warned}")
        for level in LEVELS:
            print(f"  false alarms {level:<11} {r.false_alarms[level]:>3} / {r.subjects[level]:>4}"
                  f" = {r.per_100(level):.1f} per 100")  # fmt: skip
            subjects[level] += r.subjects[level]
            false[level] += r.false_alarms[level]
        found += sum(d["warned"] for d in r.drifts)
        total += len(r.drifts)
        decoys += r.decoy_warned
    print(f"== total: drifts warned {found}/{total}, decoys warned {decoys}/{len(args.seeds)}")
    for level in LEVELS:
        print(f"  false alarms {level:<11} {false[level]} / {subjects[level]}"
              f" = {100 * false[level] / max(1, subjects[level]):.1f} per 100")  # fmt: skip


if __name__ == "__main__":
    main()
