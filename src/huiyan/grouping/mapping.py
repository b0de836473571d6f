"""Mapped mode: legacy codes translated by the scheme's maps before grouping (README, Codes).

The reference walks the original items in order and, for item ``x``, replaces the *first*
element currently equal to ``x`` by ``map[x]``. That equals an element-wise map unless a case
holds a code that is both a changing key and the target of another changing key (a map
chain, 76 diagnosis codes and 1 procedure code in CHS-DRG 1.1): only those cases take the
sequential path, so the batch stays vectorised.
"""

from __future__ import annotations

import numpy as np

from huiyan.grouping.compiled import CompiledScheme
from huiyan.grouping.frame import owners

DASH = "-"


def translate(items: list[str], mapping: dict[str, str]) -> list[str] | None:
    """The reference translation of one code list; None when some item is not a map key."""
    if any(x not in mapping for x in items):
        return None
    out = list(items)
    for x in items:
        target = mapping[x]
        if target != x and x in out:
            out[out.index(x)] = target
    return out


def finish(items: list[str], *, principal: bool) -> list[str] | None:
    """Drop empty and ``-`` items; None when the principal diagnosis maps to ``-``."""
    if principal and items and items[0] == DASH:
        return None
    return [x for x in items if x not in ("", DASH)]


def translate_batch(
    ids: np.ndarray,
    off: np.ndarray,
    target: np.ndarray,
    chain: np.ndarray,
    mapping: dict[str, str] | None,
    cs: CompiledScheme,
    *,
    principal: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Translate CSR code ids; returns (ids, offsets, failed-per-case)."""
    n = off.size - 1
    owner = owners(off)
    mapped = target[ids]
    failed = np.bincount(owner[mapped < 0], minlength=n) > 0
    mapped[mapped < 0] = cs.unknown  # failed cases keep a harmless id; their status says why
    chained = np.flatnonzero(np.bincount(owner[chain[ids]], minlength=n) > 0)
    if chained.size and mapping is not None:
        codes = cs.codes + [""]
        for i in chained:
            if failed[i]:
                continue
            lo, hi = off[i], off[i + 1]
            out = translate([codes[j] for j in ids[lo:hi]], mapping)
            assert out is not None  # every item is a key: failed[i] is False
            mapped[lo:hi] = [cs.ids[c] for c in out]
    dash = cs.ids[DASH]
    if principal:
        first = off[:-1][np.diff(off) > 0]
        bad_principal = np.zeros(n, dtype=bool)
        bad_principal[owner[first][mapped[first] == dash]] = True
        failed |= bad_principal
    keep = ~cs.drop[mapped]
    counts = np.bincount(owner[keep], minlength=n)
    new_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=new_off[1:])
    return mapped[keep].astype(np.int32), new_off, failed
