"""Turn a rule's hits (one row per unit of evidence) into ``finding`` rows, one per settlement."""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.audit.spec import RuleSpec
from huiyan.model.tables import FINDING

CASE_ID_COLUMNS = ("setl_id", "mdtrt_id", "psn_no", "medins_code")
FEN = Decimal("0.01")


def jr_id(rule_id: str, setl_id: str, detail: str | None) -> str:
    """Deterministic finding id: the same hit on a re-run gets the same id."""
    return hashlib.sha1(f"{rule_id}\x1f{setl_id}\x1f{detail or ''}".encode()).hexdigest()[:20]


def _unit_key(unit: str) -> tuple[int, str]:
    # feedetl_sn are numbers as text: order 2 before 10 on every engine.
    return (len(unit), unit) if unit.isdigit() else (1 << 30, unit)


def _detail(units: list[str | None]) -> str | None:
    parts = {p for u in units if u for p in u.split("|") if p}
    return "|".join(sorted(parts, key=_unit_key)) or None


def _texts(parts: list[str], limit: int) -> str:
    unique = list(dict.fromkeys(p for p in parts if p))
    shown = "；".join(unique[:limit])
    return shown + (f" 等{len(unique)}项" if len(unique) > limit else "")


def assemble(
    spec: RuleSpec, hits: pa.Table, *, stage: str, sev_deg: str, text_limit: int
) -> pa.Table:
    """Finding rows of ``spec`` from ``hits`` (columns HIT_COLUMNS plus the case ids)."""
    if hits.num_rows == 0:
        return FINDING.empty().cast(FINDING.arrow_schema())
    # One line proved by two knowledge rows (shipped and dataset) is still one line.
    key = pc.coalesce(hits.column("unit"), hits.column("text"), pa.scalar(""))
    hits = (
        pa.TableGroupBy(
            hits.append_column("key", key), [*CASE_ID_COLUMNS, "key"], use_threads=False
        )
        .aggregate([("amount", "max"), ("unit", "min"), ("text", "min")])
        .rename_columns({"amount_max": "amount", "unit_min": "unit", "text_min": "text"})
    )
    hits = hits.sort_by([("setl_id", "ascending"), ("key", "ascending")])
    grouped = (
        pa.TableGroupBy(hits, list(CASE_ID_COLUMNS), use_threads=False)
        .aggregate([("amount", "sum"), ("unit", "list"), ("text", "list")])
        .sort_by("setl_id")
    )
    units = grouped.column("unit_list").to_pylist()
    texts = grouped.column("text_list").to_pylist()
    amounts = grouped.column("amount_sum").to_pylist()
    setl_ids = grouped.column("setl_id").to_pylist()
    details = [_detail(us) for us in units]
    cont = [spec.template.format(hits=_texts(ts, text_limit)) for ts in texts]
    vola_amt = [
        Decimal(str(round(a or 0.0, 6))).quantize(FEN, rounding=ROUND_HALF_UP) for a in amounts
    ]
    n = grouped.num_rows

    def const(value: str) -> pa.Array:
        return pa.array([value] * n, pa.string())

    data = {
        "jr_id": pa.array(
            [jr_id(spec.id, s, d) for s, d in zip(setl_ids, details, strict=True)], pa.string()
        ),
        "rule_id": const(spec.id),
        "rule_name": const(spec.name),
        "vola_bhvr_type": const(spec.vola_bhvr_type),
        "sev_deg": const(sev_deg),
        **{c: grouped.column(c) for c in CASE_ID_COLUMNS},
        "vola_amt": pa.array(vola_amt, pa.decimal128(16, 2)),
        "vola_cont": pa.array(cont, pa.string()),
        "vola_evid": const(spec.vola_evid),
        "detail": pa.array(details, pa.string()),
        "stage": const(stage),
    }
    out = FINDING.conform(pa.table(data))
    return out.filter(pc.invert(pc.is_null(out.column("setl_id"))))
