"""Turn a rule's hits (one row per unit of evidence) into ``finding`` rows, one per settlement.

The work is vectorised Arrow/numpy over the collected hits, whatever engine produced them, so
every engine's runs assemble identical rows; ``jr_id`` is hashed by an in-memory local store
over the Arrow columns and only rare rounding ties go through Python.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from huiyan.audit.spec import AMOUNT_DIGITS, RuleSpec
from huiyan.model.tables import FINDING

CASE_ID_COLUMNS = ("setl_id", "mdtrt_id", "psn_no", "medins_code")
FEN = Decimal("0.01")
# feedetl_sn are numbers as text: order 2 before 10 on every engine; other units after them.
NON_DIGIT_RANK = 1 << 30


def jr_id(rule_id: str, setl_id: str, detail: str | None) -> str:
    """Deterministic finding id: the same hit on a re-run gets the same id.

    The stage is not part of it on purpose: a violation warned about at order entry (3101,
    answered through 3103) and found again after settlement keeps one id, so the doctor's
    answer (``realtime_feedback.warn_rslt_id``) matches the post finding under review.
    ``(stage, jr_id)`` is unique.
    """
    return hashlib.sha1(f"{rule_id}\x1f{setl_id}\x1f{detail or ''}".encode()).hexdigest()[:20]


def _jr_ids(rule_id: str, setl_ids: pa.Array, details: pa.Array) -> pa.Array:
    """``jr_id`` of every finding, hashed by an in-memory local store over the Arrow columns."""
    if len(setl_ids) <= 256 and setl_ids.null_count == 0:
        # A few findings (the real-time path): hashing in Python is cheaper than opening a
        # local store, and ``jr_id`` is the same function.
        pairs = zip(setl_ids.to_pylist(), details.to_pylist(), strict=True)
        return pa.array([jr_id(rule_id, s, d) for s, d in pairs], pa.string())
    from huiyan.engine import local

    ids = pa.table({"s": setl_ids, "d": details})  # noqa: F841 - read by the query below
    sql = "SELECT substr(sha1(? || chr(31) || s || chr(31) || coalesce(d, '')), 1, 20) FROM ids"
    with local.connect() as con:
        return con.sql(sql, params=[rule_id]).to_arrow_table().column(0).combine_chunks()


def _fens(amounts: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Decimal yuan amounts (nulls as 0) rounded half-up (away from zero) to the fen, as
    ``decimal128(16, 2)``: exact decimal arithmetic, no float and no tie margin."""
    rounded = pc.round(amounts, ndigits=2, round_mode="half_towards_infinity")
    return pc.fill_null(rounded.cast(FINDING["vola_amt"].type), Decimal(0))


def _same(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Element-wise equality where two nulls are equal."""
    eq = pc.fill_null(pc.equal(a, b), False)
    both = pc.and_(pc.is_null(a), pc.is_null(b))
    return pc.or_(eq, both).to_numpy(zero_copy_only=False)


def _joined(gid: np.ndarray, values: pa.Array, n: int, sep: str) -> pa.Array:
    """Per group 0..n-1: ``values`` (already in order, grouped by ascending ``gid``) joined."""
    counts = np.bincount(gid, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    return pc.binary_join(lists, sep)


def _details(gid: np.ndarray, units: pa.Array, n: int) -> pa.Array:
    """Per group: its units' ``|``-separated parts, distinct, in unit order; null when none."""
    keep = pc.fill_null(pc.not_equal(units, ""), False).to_numpy(zero_copy_only=False)
    lists = pc.split_pattern(units.filter(pa.array(keep)), "|")
    parts = pc.list_flatten(lists)
    owner = gid[keep][pc.list_parent_indices(lists).to_numpy()]
    t = pa.table({"g": owner, "p": parts}).filter(pc.not_equal(parts, ""))
    t = t.group_by(["g", "p"], use_threads=False).aggregate([])
    p = t.column("p")
    ascii_digits = pc.match_substring_regex(p, "^[0-9]+$")
    rank = pc.if_else(ascii_digits, pc.utf8_length(p).cast(pa.int64()), NON_DIGIT_RANK)
    non_ascii = pc.invert(pc.string_is_ascii(p)).to_numpy(zero_copy_only=False)
    if non_ascii.any():
        # str.isdigit() also accepts non-ASCII digits; such rare parts are ranked by Python.
        ranks = rank.to_numpy(zero_copy_only=False).copy()
        texts = p.to_pylist()
        for i in np.flatnonzero(non_ascii):
            ranks[i] = len(texts[i]) if texts[i].isdigit() else NON_DIGIT_RANK
        rank = pa.array(ranks)
    t = pa.table({"g": t.column("g"), "r": rank, "p": p}).sort_by(
        [("g", "ascending"), ("r", "ascending"), ("p", "ascending")]
    )
    joined = _joined(t.column("g").to_numpy(), t.column("p").combine_chunks(), n, "|")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)


def _canonical_units(units: pa.ChunkedArray) -> pa.Array:
    """Units whose ``|``-joined parts are put in unit order.

    A rule that concatenates the lines of a group (``group_concat``) gets them in whatever
    order the engine scanned them, which no parallel scan or partitioning fixes; sorted
    here, the same lines give the same key, hit order, text order and float sum on every run.
    """
    units = units.combine_chunks()
    joined = pc.fill_null(pc.match_substring(units, "|"), False).to_numpy(zero_copy_only=False)
    if not joined.any():
        return units
    rows = np.flatnonzero(joined)
    ordered = _details(np.arange(len(rows)), units.take(pa.array(rows)), len(rows))
    return pc.replace_with_mask(units, pa.array(joined), ordered)


def _texts(gid: np.ndarray, texts: pa.Array, n: int, limit: int) -> pa.Array:
    """Per group: distinct non-empty texts in hit order, the first ``limit`` joined with ``；``."""
    keep = pc.fill_null(pc.not_equal(texts, ""), False)
    t = pa.table({"g": gid, "pos": np.arange(len(gid)), "t": texts}).filter(keep)
    t = t.group_by(["g", "t"], use_threads=False).aggregate([("pos", "min")])
    t = t.sort_by([("g", "ascending"), ("pos_min", "ascending")])
    g = t.column("g").to_numpy()
    counts = np.bincount(g, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    shown = (np.arange(len(g)) - starts[g]) < limit
    joined = _joined(g[shown], t.column("t").combine_chunks().filter(pa.array(shown)), n, "；")
    more = pa.array(np.where(counts > limit, np.char.add(" 等", counts.astype(str)), ""))
    more = pc.binary_join_element_wise(more, pa.array(np.where(counts > limit, "项", "")), "")
    return pc.binary_join_element_wise(joined, more, "")


def _content(template: str, shown: pa.Array) -> pa.Array:
    """``template.format(hits=shown)`` for every row."""
    pieces = template.split("{hits}")
    if any("{" in s or "}" in s for s in pieces):
        return pa.array([template.format(hits=s) for s in shown.to_pylist()], pa.string())
    out = pa.array([pieces[0]] * len(shown), pa.string())
    for piece in pieces[1:]:
        out = pc.binary_join_element_wise(out, shown, pa.scalar(piece), "")
    return out


def _same_as_previous(t: pa.Table, columns: tuple[str, ...]) -> np.ndarray:
    """Per row of a single-chunk table: whether ``columns`` equal the previous row's."""
    same = np.ones(t.num_rows, dtype=bool)
    same[0] = False
    for c in columns:
        col = t.column(c).chunk(0)
        same[1:] &= _same(col[1:], col[:-1])
    return same


def assemble(
    spec: RuleSpec, hits: pa.Table, *, stage: str, sev_deg: str, text_limit: int
) -> pa.Table:
    """Finding rows of ``spec`` from ``hits`` (columns HIT_COLUMNS plus the case ids)."""
    hits = hits.filter(pc.is_valid(hits.column("setl_id")))
    if hits.num_rows == 0:
        return FINDING.empty_result()
    hits = hits.set_column(
        hits.column_names.index("unit"), "unit", _canonical_units(hits.column("unit"))
    )
    # One line proved by two knowledge rows (shipped and dataset) is still one line.
    key = pc.coalesce(hits.column("unit"), hits.column("text"), pa.scalar(""))
    hits = hits.append_column("key", key)
    # Each settlement's hits together, in key order (the order its texts are listed in): a run
    # of equal (case, key) is one hit, a run of equal case ids one finding. Grouping by run
    # number instead of by the string columns keeps Arrow's grouping cheap.
    order = [(c, "ascending") for c in (*CASE_ID_COLUMNS, "key", "text")]
    hits = hits.sort_by(order).combine_chunks()
    same_case = _same_as_previous(hits, CASE_ID_COLUMNS)
    run_start = np.flatnonzero(~(same_case & _same_as_previous(hits, ("key",))))
    # Per run: the largest amount; the smallest text is the first (sorted, nulls last); the
    # unit is the key itself when any line of the run has one (key = unit, else text).
    starts = np.zeros(hits.num_rows, dtype=np.int64)
    starts[run_start] = 1
    run_of = np.cumsum(starts) - 1
    # Amounts as exact decimals (a float amount, from a caller other than engine.hits, is
    # rounded to the sixth decimal here); the largest of each run counts.
    amounts = pc.cast(hits.column("amount"), pa.decimal128(*AMOUNT_DIGITS), safe=False)
    run_amount = (
        pa.TableGroupBy(pa.table({"a": amounts, "r": run_of}), "r", use_threads=False)
        .aggregate([("a", "max")])
        .sort_by("r")
        .column("a_max")
    )
    has_unit = pc.is_valid(hits.column("unit")).to_numpy(zero_copy_only=False)
    run_unit = pc.if_else(
        pa.array(np.maximum.reduceat(has_unit, run_start)),
        hits.column("key").chunk(0).take(pa.array(run_start)),
        pa.scalar(None, pa.string()),
    )
    run_text = hits.column("text").chunk(0).take(pa.array(run_start))
    new = ~same_case[run_start]
    gid = np.cumsum(new) - 1
    n = int(gid[-1]) + 1
    # Decimal sums: exact, whatever the order of the runs.
    sums = (
        pa.TableGroupBy(
            pa.table({"a": run_amount, "g": gid}),
            "g",
            use_threads=False,
        )
        .aggregate([("a", "sum")])
        .sort_by("g")
        .column("a_sum")
    )
    ids = hits.select(list(CASE_ID_COLUMNS)).take(pa.array(run_start[new]))
    details = _details(gid, run_unit, n)
    shown = _texts(gid, run_text, n, text_limit)

    def const(value: str) -> pa.Array:
        return pa.array([value] * n, pa.string())

    data = {
        "jr_id": _jr_ids(spec.id, ids.column("setl_id").combine_chunks(), details),
        "rule_id": const(spec.id),
        "rule_name": const(spec.name),
        "vola_bhvr_type": const(spec.vola_bhvr_type),
        "sev_deg": const(sev_deg),
        **{c: ids.column(c) for c in CASE_ID_COLUMNS},
        "vola_amt": _fens(sums),
        "vola_cont": _content(spec.template, shown),
        "vola_evid": const(spec.vola_evid),
        "detail": details,
        "stage": const(stage),
    }
    return FINDING.conform(pa.table(data))
