"""The dashboard's queries: each takes a :class:`Query` and plain arguments, returns rows.

``scope`` is an institution code (a hospital user sees only its own data) or ``None`` (the
bureau sees the region). Stored tables are read as ``s.<table>``; ``cube``, ``cube_m`` and
``grp_norm`` are the in-memory aggregates of :mod:`huiyan.service.web.reader`. A page whose
table a run did not produce gets no rows, never an error.
"""

from __future__ import annotations

from typing import Any

from huiyan.model.domain import SETTLED_STAGE
from huiyan.service.web.reader import Query

Rows = list[dict[str, Any]]

FINDING_PAGE = 50
# Totals count the findings that count for money (the post stage); the finding list shows all.
SETTLED = f"stage = '{SETTLED_STAGE}'"


def _scope(scope: str | None, col: str = "medins_code") -> tuple[str, list[Any]]:
    return (f" and {col} = ?", [scope]) if scope else ("", [])


# ---------------------------------------------------------------------------- overview
def totals(q: Query, scope: str | None) -> dict[str, Any]:
    """Region (or institution) totals: cases, cost, fund, standard payment, CMI, indices."""
    w, p = _scope(scope)
    row = q.one(
        f"""select sum(cases)::bigint as cases, sum(cost) as cost, sum(fund) as fund,
                   sum(std) as std, sum(diff) as diff, sum(grouped)::bigint as grouped,
                   sum(weight) / nullif(sum(grouped), 0) as cmi,
                   sum(g_cost) / nullif(sum(norm_cost), 0) as cost_index,
                   sum(g_los) / nullif(sum(norm_los), 0) as time_index,
                   sum(los)::double / nullif(sum(cases), 0) as avg_los,
                   count(distinct medins_code) as institutions
            from cube_m where true {w}""",
        p,
    )
    row["budget"] = None
    if q.has("payment_rate") and not scope:
        b = q.one(
            "select budget from s.payment_rate where method = ?"
            " and kind in ('rate', 'point_value') limit 1",
            [q.method],
        )
        row["budget"] = b.get("budget")
    f = findings_by_class(q, scope)
    row["findings"] = sum(r["n"] for r in f)
    row["finding_amt"] = sum((r["amount"] or 0) for r in f)
    row["violation_amt"] = sum((r["violation_amt"] or 0) for r in f)
    return row


def monthly(q: Query, scope: str | None) -> Rows:
    """Month-by-month trend (discharge month)."""
    w, p = _scope(scope)
    return q.rows(
        f"""select month, sum(cases)::bigint as cases, sum(cost) as cost, sum(fund) as fund,
                   sum(std) as std, sum(weight) / nullif(sum(grouped), 0) as cmi
            from cube_m where month is not null {w} group by month order by month""",
        p,
    )


def findings_by_class(q: Query, scope: str | None) -> Rows:
    """Findings by violation class: count, amount, amount of clear violations (sev_deg 1)."""
    if not q.has("finding"):
        return []
    w, p = _scope(scope)
    return q.rows(
        f"""select vola_bhvr_type as cls, count(*) as n, count(distinct setl_id) as cases,
                   sum(vola_amt) as amount,
                   sum(case when sev_deg = '1' then vola_amt else 0 end) as violation_amt
            from s.finding where {SETTLED} {w} group by 1 order by amount desc, cls""",
        p,
    )


def findings_monthly(q: Query, scope: str | None) -> Rows:
    if not q.has("finding"):
        return []
    w, p = _scope(scope, "f.medins_code")
    return q.rows(
        f"""select c.month, count(*) as n, sum(f.vola_amt) as amount
            from s.finding f join cube c using (setl_id)
            where c.month is not null and f.{SETTLED} {w} group by 1 order by 1""",
        p,
    )


def qc_rates(q: Query, scope: str | None) -> Rows:
    """The four QC indicators (pooled numerators over denominators)."""
    if not q.has("qc_indicator"):
        return []
    w, p = _scope(scope)
    return q.rows(
        f"""select indicator, sum(numerator)::bigint as num, sum(denominator)::bigint as den,
                   sum(numerator)::double / nullif(sum(denominator), 0) as rate
            from s.qc_indicator where true {w} group by 1 order by 1""",
        p,
    )


def warnings(q: Query, scope: str | None, limit: int = 20) -> Rows:
    """Monitoring warnings (institution-level subjects are institution codes)."""
    if not q.has("warning"):
        return []
    w, p = _scope(scope, "subject")
    return q.rows(
        f"""select level, subject, indicator, period, value, peer_value, deviation, severity
            from s.warning where true {w}
            order by case severity when 'high' then 0 when 'medium' then 1 else 2 end,
                     abs(deviation) desc nulls last limit {int(limit)}""",
        p,
    )


# ---------------------------------------------------------------------------- institutions
def institutions(q: Query, scope: str | None) -> Rows:
    """One row per institution with its indicators and its peer level's (same medins_lv)."""
    w, p = _scope(scope, "i.medins_code")
    has_medins = q.has("medins")
    medins = (
        "s.medins"
        if has_medins
        else "(select distinct medins_code, null::varchar medins_name, "
        "null::varchar medins_lv, null::varchar medins_type from cube)"
    )
    find = (
        "(select medins_code, count(*) as findings, sum(vola_amt) as finding_amt "
        f"from s.finding where {SETTLED} group by 1)"
        if q.has("finding")
        else "(select null::varchar medins_code, 0 findings, 0 finding_amt)"
    )
    qc = (
        "(select medins_code, sum(numerator)::double / nullif(sum(denominator), 0) as qc_pass "
        "from s.qc_indicator where indicator = 'qc_pass_rate' group by 1)"
        if q.has("qc_indicator")
        else "(select null::varchar medins_code, null::double qc_pass)"
    )
    return q.rows(
        f"""with per as (
              select medins_code, sum(cases)::bigint as cases, sum(cost) as cost,
                     sum(fund) as fund, sum(std) as std, sum(diff) as diff,
                     sum(weight) / nullif(sum(grouped), 0) as cmi,
                     sum(g_cost) / nullif(sum(norm_cost), 0) as cost_index,
                     sum(g_los) / nullif(sum(norm_los), 0) as time_index,
                     sum(cost) / nullif(sum(cases), 0) as avg_cost,
                     sum(weight) as weight, sum(grouped) as grouped,
                     sum(g_cost) as g_cost, sum(norm_cost) as norm_cost,
                     sum(g_los) as g_los, sum(norm_los) as norm_los
              from cube_m group by 1),
            joined as (
              select i.medins_code, i.medins_name, i.medins_lv, i.medins_type, per.* exclude
                     (medins_code), coalesce(f.findings, 0) as findings,
                     coalesce(f.finding_amt, 0) as finding_amt, qc.qc_pass
              from {medins} i left join per using (medins_code)
              left join {find} f using (medins_code) left join {qc} qc using (medins_code)),
            peers as (
              select medins_lv, sum(weight) / nullif(sum(grouped), 0) as peer_cmi,
                     sum(g_cost) / nullif(sum(norm_cost), 0) as peer_cost_index,
                     sum(g_los) / nullif(sum(norm_los), 0) as peer_time_index,
                     sum(cost) / nullif(sum(cases), 0) as peer_avg_cost,
                     count(*) as peer_n
              from joined group by 1)
            select i.* exclude (weight, grouped, g_cost, norm_cost, g_los, norm_los), peers.*
                   exclude (medins_lv)
            from joined i left join peers using (medins_lv)
            where true {w} order by i.medins_lv desc nulls last, i.medins_code""",
        p,
    )


def institution_groups(q: Query, scope: str | None, limit: int = 200) -> Rows:
    """DRG/DIP groups with cases, mean cost vs standard and the balance (profit/loss)."""
    w, p = _scope(scope, "c.medins_code")
    drg_std = (
        "left join (select drg as grp, cv, stable from s.drg_standard) d using (grp)"
        if q.has("drg_standard") and q.method == "DRG"
        else "left join (select null::varchar grp, null::double cv, null::boolean stable) d "
        "using (grp)"
    )
    return q.rows(
        f"""select c.grp, count(*)::bigint as cases, any_value(c.weight) as weight,
                   avg(c.cost) as avg_cost, avg(c.std) as avg_std, sum(c.diff) as balance,
                   avg(c.los) as avg_los, any_value(n.norm_cost) as norm_cost,
                   any_value(n.norm_los) as norm_los, any_value(d.cv) as cv,
                   any_value(d.stable) as stable
            from cube c left join grp_norm n using (grp) {drg_std}
            where c.grp is not null {w}
            group by c.grp order by cases desc, c.grp limit {int(limit)}""",
        p,
    )


def medins_names(q: Query) -> dict[str, str]:
    if not q.has("medins"):
        return {}
    return {
        r["medins_code"]: r["medins_name"] or r["medins_code"]
        for r in q.rows("select medins_code, medins_name from s.medins order by 1")
    }


# ---------------------------------------------------------------------------- findings
def _finding_filter(filters: tuple[tuple[str, Any], ...], scope: str | None) -> tuple[str, list]:
    f = dict(filters)
    clauses, params = ["true"], []
    for col in ("rule_id", "vola_bhvr_type", "sev_deg", "medins_code", "setl_id"):
        if f.get(col):
            clauses.append(f"{col} = ?")
            params.append(f[col])
    if f.get("min_amt") not in (None, ""):
        clauses.append("vola_amt >= ?")
        params.append(f["min_amt"])
    if scope:
        clauses.append("medins_code = ?")
        params.append(scope)
    return " and ".join(clauses), params


def findings(
    q: Query, filters: tuple[tuple[str, Any], ...], scope: str | None, page: int = 1
) -> tuple[int, Rows]:
    """A page of findings matching ``filters`` (largest amount first) and the total count."""
    if not q.has("finding"):
        return 0, []
    where, params = _finding_filter(filters, scope)
    total = q.one(f"select count(*) as n from s.finding where {where}", params)["n"]
    limit = FINDING_PAGE if page > 0 else 1_000_000
    offset = max(page - 1, 0) * FINDING_PAGE
    rows = q.rows(
        f"""select jr_id, rule_id, rule_name, vola_bhvr_type, sev_deg, setl_id, medins_code,
                   vola_amt, vola_cont, stage
            from s.finding where {where}
            order by vola_amt desc, jr_id limit {limit} offset {offset}""",
        params,
    )
    return int(total), rows


def finding(q: Query, jr_id: str) -> dict[str, Any]:
    if not q.has("finding"):
        return {}
    # A violation keeps its id at every stage it was found at; the post finding is the one
    # under review and deducted.
    return q.one(
        f"select * from s.finding where jr_id = ? order by ({SETTLED}) desc, stage limit 1",
        [jr_id],
    )


def rule_hits(q: Query, scope: str | None) -> dict[str, dict[str, Any]]:
    if not q.has("finding"):
        return {}
    w, p = _scope(scope)
    return {
        r["rule_id"]: r
        for r in q.rows(
            f"""select rule_id, count(*) as n, count(distinct medins_code) as institutions,
                       sum(vola_amt) as amount from s.finding where {SETTLED} {w} group by 1""",
            p,
        )
    }


# ---------------------------------------------------------------------------- one case
def case(q: Query, setl_id: str) -> dict[str, Any]:
    """Everything about one settlement (for the case view)."""
    if not q.has("setl_list"):
        return {}
    head = q.one("select * from s.setl_list where setl_id = ?", [setl_id])
    if not head:
        return {}
    out: dict[str, Any] = {"setl": head}

    def rows(table: str, sql: str, params: list[Any] | None = None) -> Rows:
        return q.rows(sql, params or [setl_id]) if q.has(table) else []

    out["diseinfo"] = rows(
        "diseinfo", "select * from s.diseinfo where setl_id = ? order by diag_srt_no"
    )
    out["oprninfo"] = rows(
        "oprninfo", "select * from s.oprninfo where setl_id = ? order by oprn_srt_no"
    )
    out["fees"] = rows(
        "feedetail",
        """select * from s.feedetail where setl_id = ? or (setl_id is null and mdtrt_id = ?)
           order by fee_ocur_time, feedetl_sn""",
        [setl_id, head.get("mdtrt_id")],
    )
    out["drg"] = rows("drg_result", "select * from s.drg_result where setl_id = ? order by scheme")
    out["dip"] = rows("dip_result", "select * from s.dip_result where setl_id = ?")
    out["payment"] = rows("payment", "select * from s.payment where setl_id = ? order by method")
    out["medrcd"] = rows(
        "medrcd",
        """select * from s.medrcd where medcasno = ? and (medins_code = ? or medins_code is null)
           order by rec_type, srt_no""",
        [head.get("medcasno"), head.get("medins_code")],
    )
    out["qc"] = rows("qc_issue", "select * from s.qc_issue where setl_id = ? order by check_id")
    out["findings"] = rows(
        "finding", "select * from s.finding where setl_id = ? order by vola_amt desc"
    )
    return out


# ---------------------------------------------------------------------------- settlement
def settlement_periods(q: Query) -> Rows:
    if not q.has("settlement"):
        return []
    return q.rows(
        "select distinct period, kind from s.settlement order by kind = 'year_end' desc, "
        "period desc"
    )


def settlement(q: Query, period: str, kind: str, scope: str | None) -> Rows:
    if not q.has("settlement"):
        return []
    w, p = _scope(scope, "t.medins_code")
    name = "m.medins_name" if q.has("medins") else "null"
    join = "left join s.medins m using (medins_code)" if q.has("medins") else ""
    return q.rows(
        f"""select t.*, {name} as medins_name from s.settlement t {join}
            where period = ? and kind = ? {w} order by t.medins_code""",
        [period, kind, *p],
    )


def settlement_pool(q: Query, period: str, kind: str) -> dict[str, Any]:
    if not q.has("settlement_pool"):
        return {}
    return q.one("select * from s.settlement_pool where period = ? and kind = ?", [period, kind])


def warning_counts(q: Query, scope: str | None) -> Rows:
    """Warnings by indicator and severity (for the chart of the warnings page)."""
    if not q.has("warning"):
        return []
    w, p = _scope(scope, "subject")
    return q.rows(
        f"""select indicator, severity, count(*) as n from s.warning where true {w}
            group by all order by indicator, severity""",
        p,
    )


def settlement_notice(q: Query, period: str, kind: str, medins_code: str) -> dict[str, Any]:
    """One institution's settlement row and its deducted cases (for the printable notice)."""
    rows = settlement(q, period, kind, medins_code)
    if not rows:
        return {}
    cases: Rows = []
    if q.has("settlement_case"):
        cases = q.rows(
            """select setl_id, case_type, fund_due, deduction from s.settlement_case
               where period = ? and kind = ? and medins_code = ? and deduction > 0
               order by deduction desc, setl_id""",
            [period, kind, medins_code],
        )
    return {"row": rows[0], "cases": cases}
