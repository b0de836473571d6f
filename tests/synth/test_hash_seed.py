"""The synthetic region does not depend on Python's string hash randomisation.

``test_generate.py`` compares two runs in one process, where every set of strings iterates in
the same order; only separate processes with different ``PYTHONHASHSEED`` values show a
generator that iterates a set (or a dict built from one) into random draws or row order.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

HASH_SEEDS = ("1", "2", "3")

_GENERATE = """
import sys
from huiyan.synth import generate
generate(sys.argv[1], cases=300, seed=5, months=2, violation_rate=0.3, defect_rate=0.1)
"""


def _generate(out: Path, hash_seed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    subprocess.run(
        [sys.executable, "-c", _GENERATE, str(out / "data")],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_output_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    runs = {}
    for hash_seed in HASH_SEEDS:
        _generate(tmp_path / hash_seed, hash_seed)
        runs[hash_seed] = _digests(tmp_path / hash_seed)
    first = runs[HASH_SEEDS[0]]
    assert "labels/labels.csv" in first and "labels/qc_defects.csv" in first
    assert "data/feedetail.csv" in first and "data/knowledge/dx_evidence.csv" in first
    for hash_seed, digests in runs.items():
        assert digests.keys() == first.keys()
        differ = sorted(name for name in first if digests[name] != first[name])
        assert not differ, f"PYTHONHASHSEED={HASH_SEEDS[0]} vs {hash_seed}: {differ}"
