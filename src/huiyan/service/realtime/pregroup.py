"""Pre-grouping of one encounter for a hospital: DRG and DIP group, standard, cost so far, what-if.

The DRG comes from the grouper's single-case path (``grouping.single.group_case``, the same
compiled scheme as the batch); weights and the rate from the published ``drg_standard`` and
``payment_rate`` tables, DIP scores and point value from ``dip_catalog``/``payment_rate``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

import pyarrow as pa

from huiyan.grouping.cases import Case
from huiyan.grouping.single import group_case
from huiyan.service.realtime.mapping import Encounter

WARN_AT = (0.8, 1.0)
PUBLISHED = ("drg_standard", "dip_catalog", "payment_rate")  # the tables pre-grouping reads


def settings(config: dict[str, dict[str, Any]]) -> tuple[str, str, bool]:
    """(payment scheme, mode, checked) of the configuration's ``grouping`` section."""
    grouping = config.get("grouping", {})
    scheme = str(grouping.get("payment_scheme", "chs-drg-1.1"))
    return scheme, str(grouping.get("mode", "raw")), bool(grouping.get("checked", False))


def warm(config: dict[str, dict[str, Any]], tables: dict[str, pa.Table]) -> None:
    """Load now what a worker's first pre-grouping would otherwise pay for: the compiled
    scheme, its group names and the published tables as rows (the first call took ~60 ms
    against ~1 ms, measured; under load the requests queued behind it saw up to 90 ms)."""
    from huiyan.grouping.compiled import compile_scheme

    scheme, _, _ = settings(config)
    compile_scheme(scheme)
    drg_names(scheme)
    for name in PUBLISHED:
        if name in tables:
            _rows(tables[name])


@cache
def drg_names(scheme: str) -> dict[str, str]:
    from huiyan.kb.schemes import load_scheme

    try:
        return dict(load_scheme(scheme).table("drgs"))
    except Exception:  # a scheme without a names table: codes only
        return {}


_ROWS: dict[int, tuple[pa.Table, list[dict[str, Any]]]] = {}


def _rows(t: pa.Table) -> list[dict[str, Any]]:
    """The rows of a published table as dicts, converted once per loaded table."""
    hit = _ROWS.get(id(t))
    if hit is None or hit[0] is not t:
        if len(_ROWS) > 32:
            _ROWS.clear()
        hit = _ROWS[id(t)] = (t, t.to_pylist())
    return hit[1]


def _rate(tables: dict[str, pa.Table], method: str, kind: str) -> float | None:
    t = tables.get("payment_rate")
    if t is None:
        return None
    for r in _rows(t):
        if r.get("method") == method and r.get("kind") == kind and r.get("value") is not None:
            return float(r["value"])
    return None


def to_case(enc: Encounter) -> Case:
    s = enc.tables["setl_list"][0]
    diags = sorted(
        enc.tables["diseinfo"],
        key=lambda d: (d.get("maindiag_flag") != "1", d.get("diag_srt_no") or 0),
    )
    oprns = sorted(
        enc.tables["oprninfo"],
        key=lambda o: (o.get("main_oprn_flag") != "1", o.get("oprn_srt_no") or 0),
    )
    los = None
    if s.get("adm_time") and s.get("dscg_time"):
        los = max((s["dscg_time"].date() - s["adm_time"].date()).days, 1)
    return Case(
        case_id=enc.setl_id,
        gender=s.get("gend"),
        age=s.get("age"),
        age_days=s.get("nwb_age_days"),
        birth_weight=s.get("nwb_bir_wt"),
        diagnoses=tuple(d["diag_code"] for d in diags) or ("",),
        procedures=tuple(o["oprn_oprt_code"] for o in oprns),
        los=los,
        dept=s.get("dscg_caty") or s.get("adm_caty"),
        discharge_way=s.get("dscg_way"),
    )


def pregroup(
    enc: Encounter,
    scheme: str,
    tables: dict[str, pa.Table],
    *,
    mode: str = "raw",
    checked: bool = False,
) -> dict[str, Any]:
    """The pre-grouping answer for one encounter (``mode``/``checked`` as the pipeline's)."""
    case = to_case(enc)
    r = group_case(case, scheme, mode=mode, checked=checked)
    names = drg_names(scheme)
    weight = None
    if "drg_standard" in tables:
        rows = [
            x for x in _rows(tables["drg_standard"]) if x["drg"] == r.drg and x["scheme"] == scheme
        ]
        weight = float(rows[0]["weight"]) if rows else None
    rate = _rate(tables, "DRG", "rate")
    standard = round(weight * rate, 2) if weight is not None and rate is not None else None
    cost = sum(float(f.get("det_item_fee_sumamt") or 0) for f in enc.tables["feedetail"])
    s = enc.tables["setl_list"][0]
    if not cost and s.get("medfee_sumamt") is not None:
        cost = float(s["medfee_sumamt"])
    warnings = []
    ratio = cost / standard if standard else None
    if ratio is not None:
        for level in sorted(WARN_AT, reverse=True):
            if ratio >= level:
                warnings.append(
                    f"当前费用 {cost:.2f} 元已达支付标准 {standard:.2f} 元的 {ratio:.0%}"
                    + ("(超出支付标准)" if level >= 1 else "(达到 80% 预警线)")
                )
                break
    return {
        "setl_id": enc.setl_id,
        "mdtrt_id": enc.mdtrt_id,
        "drg": {
            "scheme": scheme,
            "status": r.status,
            "mdc": r.mdc,
            "adrg": r.adrg,
            "drg": r.drg,
            "drg_name": names.get(r.drg, ""),
            "weight": weight,
            "rate": rate,
            "standard_payment": standard,
            "trace": r.trace,
        },
        "dip": _dip(case, tables),
        "cost_so_far": round(cost, 2),
        "cost_ratio": None if ratio is None else round(ratio, 4),
        "warnings": warnings,
        "what_if": _what_if(case, r.drg, scheme, names, mode, checked),
    }


def _dip(case: Case, tables: dict[str, pa.Table]) -> dict[str, Any] | None:
    t = tables.get("dip_catalog")
    if t is None or not case.diagnoses or not case.diagnoses[0]:
        return None
    principal = case.diagnoses[0]
    procs = set(case.procedures)
    best = None
    for row in _rows(t):
        code = row["diag_code"] or ""
        if not principal.startswith(code):
            continue
        need = {p for p in (row.get("procedures") or "").split("+") if p}
        if need - procs:
            continue
        rank = (len(code), len(need), row["group_type"] == "core")
        if best is None or rank > best[0]:
            best = (rank, row)
    if best is None:
        return None
    row = best[1]
    point = _rate(tables, "DIP", "point_value")
    score = float(row["score"])
    return {
        "dip_group": row["dip_group"],
        "group_type": row["group_type"],
        "score": score,
        "point_value": point,
        "standard_payment": round(score * point, 2) if point is not None else None,
    }


def _what_if(
    case: Case, drg: str, scheme: str, names: dict[str, str], mode: str, checked: bool
) -> list[dict[str, str]]:
    """Each secondary diagnosis and procedure whose removal changes the group."""
    out = []
    for i, code in enumerate(case.diagnoses[1:], start=1):
        alt = replace(case, diagnoses=case.diagnoses[:i] + case.diagnoses[i + 1 :])
        g = group_case(alt, scheme, mode=mode, checked=checked).drg
        if g != drg:
            out.append(_change("diagnosis", code, g, names))
    for i, code in enumerate(case.procedures):
        alt = replace(case, procedures=case.procedures[:i] + case.procedures[i + 1 :])
        g = group_case(alt, scheme, mode=mode, checked=checked).drg
        if g != drg:
            out.append(_change("procedure", code, g, names))
    return out


def _change(kind: str, code: str, drg: str, names: dict[str, str]) -> dict[str, str]:
    what = "次要诊断" if kind == "diagnosis" else "手术操作"
    return {
        "kind": kind,
        "code": code,
        "drg_without": drg,
        "drg_name_without": names.get(drg, ""),
        "text": f"去掉{what} {code} 后分入 {drg} {names.get(drg, '')}".strip(),
    }
