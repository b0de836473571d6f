"""Cases as integer arrays: the input of the batch path.

Diagnoses and procedures are flat arrays of code ids with CSR offsets (case ``i`` owns items
``off[i]:off[i+1]``, principal first), so list membership over a million cases is one fancy
index into a boolean array. Numeric fields are float64 with NaN for missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from huiyan.grouping.compiled import CompiledScheme

NUMERIC_FIELDS = ("age", "age_days", "birth_weight", "los")
TEXT_FIELDS = ("dept", "discharge_way")  # compared as text (REGIONAL.md: dept_in, discharge_way_in)


def owners(off: np.ndarray) -> np.ndarray:
    """Case index of every item of a CSR layout."""
    counts = np.diff(off)
    return np.repeat(np.arange(counts.size, dtype=np.int64), counts)


def gather(items: np.ndarray, off: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Items and offsets of the cases ``idx`` (in that order)."""
    starts = off[idx]
    counts = off[idx + 1] - starts
    new_off = np.zeros(idx.size + 1, dtype=np.int64)
    np.cumsum(counts, out=new_off[1:])
    pos = np.repeat(starts - new_off[:-1], counts) + np.arange(new_off[-1], dtype=np.int64)
    return items[pos], new_off


@dataclass
class Frame:
    """A set of cases, encoded against one compiled scheme."""

    cs: CompiledScheme
    dx: np.ndarray
    dx_off: np.ndarray
    px: np.ndarray
    px_off: np.ndarray
    gender_m: np.ndarray
    gender_f: np.ndarray
    num: dict[str, np.ndarray]
    text: dict[str, np.ndarray] = field(default_factory=dict)
    has_mcc: np.ndarray = field(init=False)
    has_cc: np.ndarray = field(init=False)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not hasattr(self, "has_mcc"):
            self.has_mcc = self._complication(self.cs.mcc_table)
            self.has_cc = self._complication(self.cs.cc_table)

    @property
    def n(self) -> int:
        return self.dx_off.size - 1

    def _lazy(self, key: str, make: object) -> np.ndarray:
        arr = self._cache.get(key)
        if arr is None:
            arr = make()  # type: ignore[operator]
            self._cache[key] = arr
        return arr

    @property
    def dx_owner(self) -> np.ndarray:
        return self._lazy("dx_owner", lambda: owners(self.dx_off))

    @property
    def px_owner(self) -> np.ndarray:
        return self._lazy("px_owner", lambda: owners(self.px_off))

    def _first(self, items: np.ndarray, off: np.ndarray) -> np.ndarray:
        out = np.full(off.size - 1, self.cs.unknown, dtype=np.int32)
        has = np.diff(off) > 0
        out[has] = items[off[:-1][has]]
        return out

    @property
    def pdx(self) -> np.ndarray:
        return self._lazy("pdx", lambda: self._first(self.dx, self.dx_off))

    @property
    def ppx(self) -> np.ndarray:
        return self._lazy("ppx", lambda: self._first(self.px, self.px_off))

    def _complication(self, table: np.ndarray) -> np.ndarray:
        """Some secondary diagnosis is in ``table`` and not excluded by the principal's table."""
        n = self.n
        if n == 0:
            return np.zeros(0, dtype=bool)
        owner = self.dx_owner
        secondary = np.arange(self.dx.size) > self.dx_off[:-1][owner]
        own = table[self.dx]
        excl = self.cs.excl_table[self.pdx][owner]
        counted = secondary & (own >= 0) & (own != excl)
        return np.bincount(owner[counted], minlength=n) > 0

    def take(self, idx: np.ndarray) -> Frame:
        """The sub-frame of cases ``idx``."""
        dx, dx_off = gather(self.dx, self.dx_off, idx)
        px, px_off = gather(self.px, self.px_off, idx)
        sub = Frame.__new__(Frame)
        sub.cs, sub.dx, sub.dx_off, sub.px, sub.px_off = self.cs, dx, dx_off, px, px_off
        sub.gender_m, sub.gender_f = self.gender_m[idx], self.gender_f[idx]
        sub.num = {k: v[idx] for k, v in self.num.items()}
        sub.text = {k: v[idx] for k, v in self.text.items()}
        sub.has_mcc, sub.has_cc = self.has_mcc[idx], self.has_cc[idx]
        sub._cache = {}
        return sub

    def with_procedures(self, px: np.ndarray, px_off: np.ndarray) -> Frame:
        """The same cases with other procedures (diagnoses, hence MCC/CC, unchanged)."""
        sub = self.take(np.arange(self.n))
        sub.px, sub.px_off = px, px_off
        return sub
