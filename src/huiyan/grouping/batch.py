"""The batch path: groups a whole case table at once, set-based.

Every MDC entry, ADRG rule and DRG test is evaluated over all still-ungrouped cases at once
(boolean arrays, "first match wins" masks); no Python loop runs per case. Cases whose MDC
entry holds are narrowed into a sub-frame, so the rules of an MDC only see its cases.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from huiyan.errors import ConfigurationError
from huiyan.grouping import checks
from huiyan.grouping.compiled import CompiledScheme, compile_scheme
from huiyan.grouping.conditions import evaluate_batch
from huiyan.grouping.frame import TEXT_FIELDS, Frame
from huiyan.grouping.mapping import translate_batch
from huiyan.grouping.result import FAIL_CODE, classify, rejected

MODES = ("raw", "mapped")
RESULT_SCHEMA = pa.schema(
    [
        ("case_id", pa.string()),
        ("status", pa.string()),
        ("mdc", pa.string()),
        ("adrg", pa.string()),
        ("drg", pa.string()),
        ("drg_name", pa.string()),
        ("has_mcc", pa.bool_()),
        ("has_cc", pa.bool_()),
    ]
)


def _codes(col: pa.ChunkedArray | pa.Array, *, keep_empty: bool) -> tuple[pa.Array, np.ndarray]:
    """Flat code strings and CSR offsets from a text (``a|b``) or list column."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        if keep_empty:  # a missing or empty diagnoses list is one empty principal code
            empty = pc.fill_null(pc.equal(pc.list_value_length(col), 0), True)
            col = pc.if_else(empty, pa.scalar([""], col.type), col)
    else:
        text = pc.fill_null(col.cast(pa.string()), "")
        if not keep_empty:  # an empty procedures field gives no procedures
            text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        # both separators count (README); a literal split is much faster than a regex one
        col = pc.split_pattern(pc.replace_substring(text, ",", "|"), "|")
    lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False)
    off = np.zeros(len(col) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    return pc.list_flatten(col), off


def _num(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    col = table.column(name).combine_chunks().cast(pa.float64())
    return pc.fill_null(col, np.nan).to_numpy(zero_copy_only=False)


def prepare(
    table: pa.Table, cs: CompiledScheme, *, mode: str = "raw", checked: bool = False
) -> tuple[Frame, np.ndarray]:
    """Encode, map and check a case table: (frame of all cases, input status per case)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    n = table.num_rows
    dx_codes, dx_off = _codes(table.column("diagnoses"), keep_empty=True)
    px_codes, px_off = _codes(table.column("procedures"), keep_empty=False)
    dx, px = cs.encode(dx_codes), cs.encode(px_codes)
    # a bare asterisk principal unknown to the scheme still has to be recognised as such
    first_text = dx_codes.take(pa.array(dx_off[:-1]))
    star_text = pc.and_(
        pc.ends_with(first_text, "*"), pc.invert(pc.match_substring(first_text, "+"))
    ).to_numpy(zero_copy_only=False)
    no_fail = np.zeros(n, dtype=bool)
    zd_fail = ss_fail = no_fail
    if mode == "mapped":
        dmap = cs.mapping("diagnosis_map") if cs.chain_dx[dx].any() else None
        dx, dx_off, zd_fail = translate_batch(
            dx, dx_off, cs.dx_map, cs.chain_dx, dmap, cs, principal=True
        )
        pmap = cs.mapping("procedure_map") if cs.chain_px[px].any() else None
        px, px_off, ss_fail = translate_batch(
            px, px_off, cs.px_map, cs.chain_px, pmap, cs, principal=False
        )
    gender = table.column("gender").combine_chunks().cast(pa.string())
    gender_np = gender.to_numpy(zero_copy_only=False).astype(object)
    gcodes = cs.scheme.logic["input"]["gender_codes"]
    num = {k: _num(table, k) for k in ("age", "age_days", "birth_weight", "los")}
    general, newborn_missing, zero_weight = checks.validation(
        gender_np, num, np.diff(dx_off), cs, mapped=mode == "mapped"
    )
    frame_num = dict(num)
    # birth weight 0 counts as missing in conditions (it passed validation above)
    frame_num["birth_weight"] = np.where(num["birth_weight"] == 0, np.nan, num["birth_weight"])
    text = {
        k: table.column(k).combine_chunks().cast(pa.string()).to_numpy(zero_copy_only=False)
        for k in TEXT_FIELDS
        if k in table.column_names
    }
    frame = Frame(
        cs=cs,
        dx=dx,
        dx_off=dx_off,
        px=px,
        px_off=px_off,
        gender_m=gender_np == gcodes["M"],
        gender_f=gender_np == gcodes["F"],
        num=frame_num,
        text=text,
    )
    flags = checks.Flags(
        zd_not_mapping=zd_fail,
        ss_not_mapping=ss_fail & ~zd_fail,
        general=general,
        newborn_missing=newborn_missing,
        newborn_zero_weight=zero_weight,
        zd_not_valid=no_fail,
        ss_not_valid=no_fail,
        zd_not_principal=no_fail,
        zd_not_match_gender=no_fail,
    )
    if checked:
        _strict_flags(flags, frame, star_text)
    return frame, checks.first_status(flags, checked=checked)


def _strict_flags(flags: checks.Flags, f: Frame, star_text: np.ndarray) -> None:
    cs, n = f.cs, f.n
    flags.zd_not_valid = np.bincount(f.dx_owner[~cs.in_diagnoses[f.dx]], minlength=n) > 0
    flags.ss_not_valid = np.bincount(f.px_owner[~cs.in_procedures[f.px]], minlength=n) > 0
    star = cs.member_fn("manifestation", checks.manifestation_only)
    flags.zd_not_principal = np.where(f.pdx == cs.unknown, star_text, star[f.pdx])
    wrong = np.zeros(n, dtype=bool)
    for list_name, required in checks.gender_restricted_lists(cs):
        other = (
            f.gender_f if required == cs.scheme.logic["input"]["gender_codes"]["M"] else f.gender_m
        )
        wrong |= cs.member(list_name)[f.pdx] & other
    flags.zd_not_match_gender = wrong


def run_logic(f: Frame) -> np.ndarray:
    """Index into ``codes`` of each case's returned code (-1: no MDC produced one)."""
    cs = f.cs
    result = np.full(f.n, -1, dtype=np.int32)
    cur, cur_idx = f, np.arange(f.n)
    alive = np.ones(f.n, dtype=bool)
    for mdc in cs.scheme.logic["mdcs"]:
        if not alive.any():
            break
        if alive.sum() < 0.6 * cur.n:  # re-narrow once enough cases have been grouped
            keep = np.flatnonzero(alive)
            cur, cur_idx, alive = cur.take(keep), cur_idx[keep], np.ones(keep.size, dtype=bool)
        entered = evaluate_batch(mdc["entry"], cur) & alive
        if not entered.any():
            continue
        rows = np.flatnonzero(entered)
        sub = cur.take(rows)
        done = _run_steps(mdc["steps"], sub, cur_idx[rows], result, cs)
        alive[rows[done]] = False
    return result


def run_with_retry(f: Frame) -> np.ndarray:
    """``run_logic``, then the scheme's ``retry_on_fail`` for the cases that got no code.

    ``secondary_procedures_one_by_one`` (REGIONAL.md): a case with more than one procedure is
    grouped again with each secondary procedure in turn as its only procedure; the first code
    wins.
    """
    result = run_logic(f)
    retry = f.cs.scheme.logic.get("retry_on_fail")
    if not retry:
        return result
    if retry != "secondary_procedures_one_by_one":
        raise ConfigurationError(f"分组方案 {f.cs.name} 的 retry_on_fail 未知: {retry!r}")
    n_px = np.diff(f.px_off)
    k = 1
    while True:
        todo = np.flatnonzero((result == -1) & (n_px > k))
        if todo.size == 0:
            return result
        sub = f.take(todo)
        only = sub.px[sub.px_off[:-1] + k]
        one = sub.with_procedures(only, np.arange(todo.size + 1, dtype=np.int64))
        result[todo] = run_logic(one)
        k += 1


def _run_steps(
    steps: list[dict], sub: Frame, idx: np.ndarray, result: np.ndarray, cs: CompiledScheme
) -> np.ndarray:
    """Apply an MDC's steps in order to ``sub``; returns which of its cases got a code."""
    done = np.zeros(sub.n, dtype=bool)
    for step in steps:
        hit = evaluate_batch(step["condition"], sub) & ~done
        if not hit.any():
            continue
        if step["type"] == "ambiguity":
            result[idx[hit]] = cs.result_id(step["code"])
            done |= hit
            continue
        pending = hit.copy()
        for drg in step["drgs"]:
            got = evaluate_batch(drg["condition"], sub) & pending
            result[idx[got]] = cs.result_id(drg["code"])
            pending &= ~got
        if step.get("fallback"):
            result[idx[pending]] = cs.result_id(step["fallback"])
            pending[:] = False
        done |= hit & ~pending
    return done


def group_table(
    table: pa.Table, scheme: str, *, mode: str = "raw", checked: bool = False
) -> pa.Table:
    """Group a case table (columns of ``cases.CASE_COLUMNS``; code fields text or lists)."""
    cs = compile_scheme(scheme)
    frame, status = prepare(table, cs, mode=mode, checked=checked)
    ok = np.flatnonzero(status == "")
    codes = np.full(frame.n, -1, dtype=np.int32)
    if ok.size:
        codes[ok] = run_with_retry(frame.take(ok))
    names = cs.result_codes + [FAIL_CODE]
    results = cs.scheme.logic.get("results")
    parts = np.array([classify(c, results) for c in names], dtype=object)  # (n_codes, 4)
    picked = parts[codes]  # -1 picks the FAIL row
    grouped = status == ""
    final_status = np.where(grouped, picked[:, 0], status)
    cols = [np.where(grouped, picked[:, k + 1], v) for k, v in enumerate(rejected(results))]
    has_mcc = pa.array(frame.has_mcc, mask=~grouped)
    has_cc = pa.array(frame.has_cc, mask=~grouped)
    return pa.table(
        [
            table.column("case_id").cast(pa.string()),
            pa.array(final_status, pa.string()),
            *(pa.array(c, pa.string()) for c in cols),
            pa.array([cs.drg_name(c) for c in cols[2].tolist()], pa.string()),
            has_mcc,
            has_cc,
        ],
        schema=RESULT_SCHEMA,
    )
