"""Per-class precision and recall of the audit on both generators (the closing-note table).

    .venv/bin/python -m tests.regions.quality --stays 20000 --seeds 2025 7 42

generates each region (huiyan.synth and the independent tests/regions generator), runs the
whole pipeline as ``huiyan run`` does, scores the findings against the labels at case level
and prints one table per generator: per class the labels, tp, fp, fn and the lowest
precision and recall over the seeds.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from huiyan.audit.evaluate import evaluate, read_labels
from huiyan.engine import Store
from huiyan.kb import config
from huiyan.model.tables import FINDING
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import run_steps

from .generator import generate_region

Generator = Callable[[Path, Path, int, int], Path]


def _synth(out: Path, labels: Path, stays: int, seed: int) -> Path:
    from huiyan.synth.generate import generate

    return generate(out, cases=stays, seed=seed, violation_rate=0.05, labels_dir=labels).labels_path


def _independent(out: Path, labels: Path, stays: int, seed: int) -> Path:
    return generate_region(out, labels, stays=stays, seed=seed)


GENERATORS: dict[str, Generator] = {"synth": _synth, "regions": _independent}


def score(folder: Path, generator: str, *, stays: int, seed: int) -> list[dict]:
    """Generate one region under ``folder``, run the pipeline, score it per class."""
    labels = GENERATORS[generator](folder / "data", folder / "labels", stays, seed)
    with Store(folder / "region.duckdb") as store:
        run_steps(RunContext(store, config.load(), folder / "data", show_progress=False))
        findings: pa.Table = store.read(FINDING.name)
    return evaluate(findings, read_labels(labels)).to_pylist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stays", type=int, default=20_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[2025, 7, 42])
    ap.add_argument("--generators", nargs="+", default=list(GENERATORS))
    args = ap.parse_args()
    for gen in args.generators:
        per: dict[str, list[dict]] = {}
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                for row in score(Path(tmp), gen, stays=args.stays, seed=seed):
                    per.setdefault(row["vola_bhvr_type"], []).append(row)
        print(f"\n{gen}: {args.stays} stays x seeds {args.seeds} (min precision/recall over seeds)")
        print(f"{'class':<11}{'labels':>7}{'tp':>6}{'fp':>6}{'fn':>6}{'P min':>8}{'R min':>8}")
        for cls, rows in per.items():
            tot = {k: sum(r[k] for r in rows) for k in ("labels", "tp", "fp", "fn")}
            p = min((r["precision"] if r["precision"] is not None else 0.0) for r in rows)
            r_ = min((r["recall"] if r["recall"] is not None else 0.0) for r in rows)
            print(
                f"{cls:<11}{tot['labels']:>7}{tot['tp']:>6}{tot['fp']:>6}{tot['fn']:>6}"
                f"{p:>8.3f}{r_:>8.3f}"
            )


if __name__ == "__main__":
    main()
