"""A scheme compiled for grouping: every code as an integer id, every list as a boolean array.

Both paths share this: the batch path indexes the arrays with code ids, the single-case path
uses the frozensets. Id ``unknown`` (the last) stands for any code the scheme does not know;
it is in no list, so an unknown code simply matches nothing, as in the reference.

Compiling a scheme (reading its tables, applying its deltas, checking the result against the
digests of its manifest) takes a second or more, so the result is kept on disk in the user's
cache folder (``$HUIYAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/huiyan``, else ``~/.cache/huiyan``),
one file per scheme named by the sha256 of the scheme's data files and of this module: a
changed data file or compiler gives a new key, so a stale entry is never read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from huiyan.errors import ConfigurationError
from huiyan.kb.schemes import Scheme, content_key, load_scheme, verify_resolved

log = logging.getLogger(__name__)
CACHE_ENV = "HUIYAN_CACHE_DIR"

# Map targets that mean "drop this item" (README, Codes: "drop empty and `-` items").
DROP_TARGETS = ("", "-")


@dataclass
class CompiledScheme:
    scheme: Scheme
    codes: list[str]
    ids: dict[str, int]
    vocab: pa.Array
    # per-code attributes, indexed by id (size len(codes) + 1, last = unknown)
    mcc_table: np.ndarray
    cc_table: np.ndarray
    excl_table: np.ndarray
    in_diagnoses: np.ndarray
    in_procedures: np.ndarray
    dx_map: np.ndarray  # target id, -1 when the code is not a key of the map
    px_map: np.ndarray
    chain_dx: np.ndarray  # code is both a changing key and the target of a changing key
    chain_px: np.ndarray
    drop: np.ndarray
    drg_names: dict[str, str] = field(default_factory=dict)  # drgs.tsv: DRG code -> name
    or_codes: list[str] = field(default_factory=list)
    result_codes: list[str] = field(default_factory=list)
    _result_ids: dict[str, int] = field(default_factory=dict, repr=False)
    _members: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _maps: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _sets: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _sites: dict[str, tuple[np.ndarray, dict[str, tuple[str, ...]]]] = field(
        default_factory=dict, repr=False
    )

    @property
    def name(self) -> str:
        return self.scheme.name

    @property
    def unknown(self) -> int:
        return len(self.codes)

    def member(self, list_name: str) -> np.ndarray:
        """Boolean array over code ids: is the code in list ``list_name``."""
        arr = self._members.get(list_name)
        if arr is None:
            arr = np.zeros(len(self.codes) + 1, dtype=bool)
            arr[[self.ids[c] for c in self.code_list(list_name)]] = True
            self._members[list_name] = arr
        return arr

    def member_fn(self, key: str, predicate: Callable[[str], bool]) -> np.ndarray:
        """Boolean array over code ids of a code predicate (cached under ``key``)."""
        arr = self._members.get("fn:" + key)
        if arr is None:
            arr = np.array([predicate(c) for c in self.codes] + [False], dtype=bool)
            self._members["fn:" + key] = arr
        return arr

    def mapping(self, role: str) -> dict[str, str]:
        """``diagnosis_map`` or ``procedure_map`` as a dict (cached)."""
        m = self._maps.get(role)
        if m is None:
            m = self._maps[role] = self.scheme.table(role)
        return m

    def result_id(self, code: str) -> int:
        """A small integer for a returned DRG/ADRG/QY code (the batch path stores these)."""
        rid = self._result_ids.get(code)
        if rid is None:
            rid = self._result_ids[code] = len(self.result_codes)
            self.result_codes.append(code)
        return rid

    def code_list(self, list_name: str) -> list[str]:
        if list_name == "or_procedures":  # kept in the compiled form: no table read per run
            return self.or_codes
        return self.scheme.code_list(list_name)

    def drg_name(self, code: str) -> str:
        """Chinese name of a DRG; empty for codes drgs.tsv does not name (bare ADRG, QY)."""
        return self.drg_names.get(code, "")

    def code_set(self, list_name: str) -> frozenset[str]:
        s = self._sets.get(list_name)
        if s is None:
            s = frozenset(self.code_list(list_name))
            self._sets[list_name] = s
        return s

    def sites(self, name: str) -> tuple[np.ndarray, dict[str, tuple[str, ...]]]:
        """Bit mask of body sites per code id, and code -> site names (for traces)."""
        cached = self._sites.get(name)
        if cached is None:
            site_map: dict[str, list[str]] = self.scheme.logic["site_maps"][name]
            bits = np.zeros(len(self.codes) + 1, dtype=np.int64)
            by_code: dict[str, list[str]] = {}
            for i, (site, codes) in enumerate(site_map.items()):
                for c in codes:
                    bits[self.ids[c]] |= 1 << i
                    by_code.setdefault(c, []).append(site)
            cached = (bits, {c: tuple(v) for c, v in by_code.items()})
            self._sites[name] = cached
        return cached

    def encode(self, codes: pa.Array) -> np.ndarray:
        """Ids of a string array (unknown codes and nulls -> ``unknown``).

        Dictionary-encodes first, so only the distinct input codes are looked up.
        """
        enc = codes.dictionary_encode() if not pa.types.is_dictionary(codes.type) else codes
        ids, unknown = self.ids, self.unknown
        lut = np.fromiter(
            (ids.get(c, unknown) for c in enc.dictionary.to_pylist()),
            dtype=np.int32,
            count=len(enc.dictionary),
        )
        idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return np.where(idx >= 0, lut[idx] if lut.size else unknown, unknown).astype(np.int32)


def _attr(
    n: int, pairs: dict[str, str], ids: dict[str, int], table_ids: dict[str, int]
) -> np.ndarray:
    arr = np.full(n + 1, -1, dtype=np.int32)
    for code, table in pairs.items():
        arr[ids[code]] = table_ids.setdefault(table, len(table_ids))
    return arr


def _map_arrays(
    n: int, mapping: dict[str, str], ids: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    target = np.full(n + 1, -1, dtype=np.int32)
    for k, v in mapping.items():
        target[ids[k]] = ids[v]
    changing = {k for k, v in mapping.items() if k != v}
    chain = np.zeros(n + 1, dtype=bool)
    for k in changing:
        v = mapping[k]
        if v in changing:
            chain[ids[v]] = True
    return target, chain


def cache_dir() -> Path:
    """Where compiled schemes are kept (see the module docstring)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "huiyan"


def cache_key(name: str) -> str:
    """sha256 of the scheme's data files (its inheritance chain included) and of the compiler."""
    h = hashlib.sha256(content_key(name).encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def cache_path(name: str) -> Path:
    return cache_dir() / "schemes" / f"{name}-{cache_key(name)[:32]}.pickle"


@cache
def compile_scheme(name: str) -> CompiledScheme:
    """The scheme called ``name``, compiled: from the disk cache when its key matches, else
    compiled now (and stored for the next process)."""
    path = cache_path(name)
    try:
        with path.open("rb") as fh:
            compiled = pickle.load(fh)
        if isinstance(compiled, CompiledScheme) and compiled.name == name:
            return compiled
    except FileNotFoundError:
        pass
    except Exception as exc:  # a damaged entry is rebuilt, never trusted
        log.warning("compiled scheme cache %s unreadable (%s); rebuilding", path, exc)
    compiled = _compile(name)
    _store(path, compiled)
    return compiled


def _store(path: Path, compiled: CompiledScheme) -> None:
    """Write atomically; a cache that cannot be written only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as fh:
            pickle.dump(compiled, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fh.name, path)
    except OSError as exc:
        log.info("compiled scheme not cached at %s: %s", path, exc)


def _compile(name: str) -> CompiledScheme:
    bad = verify_resolved(name)
    if bad:
        raise ConfigurationError(
            f"分组方案 {name} 应用差异后与核验过的完整数据不一致: {', '.join(bad)}"
            "(请运行 huiyan kb verify)"
        )
    scheme = load_scheme(name)
    tables = {role: scheme.table(role) for role in ("cc", "mcc", "cc_exclusion")}
    dmap, pmap = scheme.table("diagnosis_map"), scheme.table("procedure_map")
    diagnoses, procedures = scheme.table("diagnoses"), scheme.table("procedures")
    vocab: dict[str, int] = {}
    sources: list[object] = [diagnoses, procedures, dmap, dmap.values(), pmap, pmap.values()]
    sources += list(tables.values())
    sources += [scheme.code_list("or_procedures"), DROP_TARGETS]
    sources += list(scheme.logic["lists"].values())
    for site_map in scheme.logic.get("site_maps", {}).values():
        sources += list(site_map.values())
    for src in sources:
        for code in src:  # type: ignore[attr-defined]
            vocab.setdefault(code, len(vocab))
    n = len(vocab)
    table_ids: dict[str, int] = {}
    dx_map, chain_dx = _map_arrays(n, dmap, vocab)
    px_map, chain_px = _map_arrays(n, pmap, vocab)
    drop = np.zeros(n + 1, dtype=bool)
    drop[[vocab[c] for c in DROP_TARGETS]] = True
    in_dx = np.zeros(n + 1, dtype=bool)
    in_dx[[vocab[c] for c in diagnoses]] = True
    in_px = np.zeros(n + 1, dtype=bool)
    in_px[[vocab[c] for c in procedures]] = True
    codes = list(vocab)
    compiled = CompiledScheme(
        scheme=scheme,
        codes=codes,
        ids=vocab,
        vocab=pa.array(codes, pa.string()),
        mcc_table=_attr(n, tables["mcc"], vocab, table_ids),
        cc_table=_attr(n, tables["cc"], vocab, table_ids),
        excl_table=_attr(n, tables["cc_exclusion"], vocab, table_ids),
        in_diagnoses=in_dx,
        in_procedures=in_px,
        dx_map=dx_map,
        px_map=px_map,
        chain_dx=chain_dx,
        chain_px=chain_px,
        drop=drop,
        drg_names=scheme.table("drgs"),
        or_codes=scheme.code_list("or_procedures"),
    )
    compiled._maps.update(diagnosis_map=dmap, procedure_map=pmap)  # mapped mode, from the cache
    return compiled
