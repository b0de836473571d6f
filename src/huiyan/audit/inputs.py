"""Binding: the one module that turns stored tables and the kb into a rule's inputs.

Everything a rule may read is an attribute of ``RuleInputs``; rules never open the store or
the kb themselves, so adjusting to a new table or knowledge source happens here only.

- store tables (Ibis, on whatever backend holds them): ``setl_list, diseinfo, oprninfo,
  feedetail, medins, drg_result, payment, case_scope``;
- the effective catalog ``hilist`` (shipped, overridden by the dataset's), the knowledge
  tables of docs/design.md §3 (shipped defaults merged with the dataset's ``knowledge/``), the
  restriction tables (national knowledge points plus ``hilist`` limits) and the scheme's
  MCC/CC lists and DRG splits — small, handed to the backend as in-memory tables;
- derived, shared expressions: ``case`` (one row per settlement with LOS, level, days as
  integers), ``lines`` (refund-netted fee lines with catalog attributes, computed once and
  cached on the backend) and ``norms`` (per-DRG average cost and LOS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from huiyan.audit.netting import MONEY_TYPE, net_lines
from huiyan.model.tables import HILIST

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

INPUT_TABLES = STORE_TABLES = (
    "setl_list",
    "diseinfo",
    "oprninfo",
    "feedetail",
    "medins",
    "drg_result",
    "drg_regroup",
    "payment",
    "case_scope",
)
KNOWLEDGE = (
    "dx_evidence",
    "oprn_evidence",
    "diag_restriction",
    "diag_exclusive",
    "item_exclusive",
    "item_bundle",
    "exam_indication",
    "procedure_incision",
    "outpatient_treatable",
    "drg_weight",
)
DRUG_CHRGITM_TYPES = ("09", "10", "11")


@dataclass
class RuleInputs:
    """The tables a rule reads (all Ibis expressions on one backend)."""

    case: ir.Table
    lines: ir.Table
    diag: ir.Table
    oprn: ir.Table
    hilist: ir.Table
    drg: ir.Table
    regroup: ir.Table  # drg_regroup of the payment scheme: groups without the principal procedure
    payment: ir.Table
    scope: ir.Table
    norms: ir.Table
    kb: dict[str, ir.Table]
    scheme: str
    # Parameters of every enabled rule, for rules defined as the complement of another.
    rule_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Library-wide settings of the audit configuration (e.g. ``procedure_evidence``).
    settings: dict[str, Any] = field(default_factory=dict)
    cached: list[ir.Table] = field(default_factory=list)
    # How a derived input is kept on the backend (``Source.keep``) and those kept so far.
    keep: Callable[[ir.Table], ir.Table] = field(default=lambda t: t, repr=False)
    memo: dict[str, ir.Table] = field(default_factory=dict, repr=False)

    def shared(self, key: str, build: Callable[[], ir.Table]) -> ir.Table:
        """The derived input ``key``: ``build()`` computed once per run, reused by every rule."""
        if key not in self.memo:
            self.memo[key] = self.keep(build())
        return self.memo[key]

    def release(self) -> None:
        """Drop the tables cached on the backend (call before its connection closes)."""
        for table in self.cached:
            table.release()
        self.cached.clear()
        self.memo.clear()


@dataclass
class Source:
    """Where the inputs come from: big tables as Ibis, small ones as Arrow.

    ``table(name)`` returns the stored table as an Ibis expression; ``arrow(name)`` returns a
    small stored table (catalog, knowledge) as Arrow or None when it is not stored.
    """

    table: Callable[[str], ir.Table]
    arrow: Callable[[str], pa.Table | None]
    cache: Callable[[ir.Table], ir.Table] = field(default=lambda t: t.cache())
    # How a small Arrow table (catalog, knowledge) reaches the backend: in-memory by default;
    # the distributed engine registers it, since its cached plans do not see Ibis memtables.
    small: Callable[[str, pa.Table], ir.Table] | None = None
    cached: list[ir.Table] = field(default_factory=list)

    def keep(self, table: ir.Table) -> ir.Table:
        """``table`` computed once on the backend and reused by every rule."""
        out = self.cache(table)
        if out is not table:
            self.cached.append(out)
        return out


def store_source(engine: Engine) -> Source:
    """A ``Source`` reading the tables stored on ``engine`` (any engine)."""
    return Source(
        table=engine.table,
        arrow=engine.read_optional,
        cache=engine.materialize,
        small=engine.register,
    )


def _small(source: Source, name: str, data: pa.Table) -> ir.Table:
    if source.small is not None:
        return source.small(f"_audit_{name}", data)
    import ibis

    return ibis.memtable(data)


def _mcc_cc(scheme: str) -> tuple[pa.Table, pa.Table]:
    from huiyan.kb.schemes import load_scheme

    s = load_scheme(scheme)
    codes: list[str] = []
    kinds: list[str] = []
    tables: list[str] = []
    for kind in ("mcc", "cc"):
        for code, table in (r[:2] for r in s.rows(kind)):
            codes.append(code)
            kinds.append(kind)
            tables.append(table)
    lists = pa.table({"cc_code": codes, "cc_kind": kinds, "cc_table": tables})
    excl = s.rows("cc_exclusion")
    exclusion = pa.table({"ex_principal": [r[0] for r in excl], "ex_table": [r[1] for r in excl]})
    return lists, exclusion


def _or_procedures(scheme: str) -> pa.Table:
    """The scheme's operating-room procedures (``or_code``): operations that bill surgery."""
    from huiyan.kb.schemes import load_scheme

    codes = sorted(set(load_scheme(scheme).code_list("or_procedures")))
    return pa.table({"or_code": pa.array(codes, pa.string())})


def _drg_splits(scheme: str) -> pa.Table:
    """The scheme's complication splits (``kb.schemes.complication_splits``) as a table."""
    from huiyan.kb.schemes import complication_splits

    cols = ("drg", "split", "cc_sibling", "none_sibling")
    rows = complication_splits(scheme)
    return pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(cols)})


def _exploded(table: pa.Table, key: str, column: str) -> pa.Table:
    """(p_code, p_prefix) rows from a ``|``-separated prefix column (split here, not in SQL:
    the distributed engine's ``split`` takes a regular expression, where ``|`` means "or")."""
    import pyarrow.compute as pc

    codes: list[str] = []
    found: list[str] = []
    for code, text in zip(
        table.column(key).to_pylist(), table.column(column).to_pylist(), strict=True
    ):
        for part in (text or "").split("|"):
            if part.strip():
                codes.append(str(code))
                found.append(part.strip())
    out = pa.table(
        {"p_code": pa.array(codes, pa.string()), "p_prefix": pa.array(found, pa.string())}
    )
    return out.filter(pc.is_valid(out.column("p_code")))


def bind(source: Source, config: dict[str, dict[str, Any]]) -> RuleInputs:
    """Bind every input of the rule library (see the module docstring)."""
    import ibis

    from huiyan.kb import catalog, knowledge, restrictions

    t = {name: source.table(name) for name in STORE_TABLES}
    hilist_arrow = HILIST.conform(catalog.effective_hilist(source.arrow("hilist")))
    hilist = _small(source, "hilist", hilist_arrow)
    kb = {
        name: _small(source, name, knowledge.effective(name, source.arrow(name)))
        for name in KNOWLEDGE
    }
    kb["item_restriction"] = _small(
        source, "item_restriction", restrictions.effective_item_restrictions(hilist_arrow)
    )
    kb["lmt_dx_prefix"] = _small(
        source, "lmt_dx_prefix", _exploded(hilist_arrow, "hilist_code", "lmt_dx")
    )
    exam = knowledge.effective("exam_indication", source.arrow("exam_indication"))
    kb["exam_dx_prefix"] = _small(
        source, "exam_dx_prefix", _exploded(exam, "group_id", "qualifying_dx")
    )
    kb["dup_charge_pair"] = _small(source, "dup_charge_pair", restrictions.load("dup_charge_pair"))
    scheme = str(config.get("grouping", {}).get("payment_scheme", "chs-drg-1.1"))
    lists, exclusion = _mcc_cc(scheme)
    kb["mcc_cc"] = _small(source, "mcc_cc", lists)
    kb["cc_exclusion"] = _small(source, "cc_exclusion", exclusion)
    kb["drg_split"] = _small(source, "drg_split", _drg_splits(scheme))
    kb["or_procedure"] = _small(source, "or_procedure", _or_procedures(scheme))

    s, m = t["setl_list"], t["medins"].select("medins_code", "medins_lv")
    m = m.select(m_code=m.medins_code, medins_lv=m.medins_lv)
    sm = s.left_join(m, s.medins_code == m.m_code)
    adm_day = sm.adm_time.date().epoch_days()
    dscg_day = sm.dscg_time.date().epoch_days()
    case = sm.select(
        "setl_id",
        "mdtrt_id",
        "psn_no",
        "medins_code",
        "gend",
        "age",
        "insutype",
        "adm_way",
        "dscg_way",
        "adm_time",
        "dscg_time",
        medins_lv=sm.medins_lv,
        flag31=sm.days_rinp_flag_31,
        adm_day=adm_day,
        dscg_day=dscg_day,
        adm_sec=sm.adm_time.epoch_seconds(),
        dscg_sec=sm.dscg_time.epoch_seconds(),
        los=ibis.greatest(dscg_day - adm_day, 1),
        # Money stays the canonical MONEY decimal: thresholds, sums and texts are exact.
        medfee=sm.medfee_sumamt.cast(MONEY_TYPE),
        fund_pay=sm.fund_pay_sumamt.cast(MONEY_TYPE),
    )
    case = source.keep(case)

    h = hilist.select(
        h_code=hilist.hilist_code,
        h_list_type=hilist.list_type,
        unit=hilist.unit,
    )
    net = net_lines(t["feedetail"], s)
    joined = net.left_join(h, net.code == h.h_code)
    drug_type = joined.chrgitm_type.isin(DRUG_CHRGITM_TYPES)
    lines = joined.mutate(
        list_type=joined.h_list_type.fill_null(drug_type.ifelse("1", "2")),
    ).drop("h_code", "h_list_type")
    lines = source.keep(lines)

    drg = t["drg_result"].filter(lambda d: d.scheme == scheme)
    regroup = t["drg_regroup"].filter(lambda d: d.scheme == scheme)
    payment = t["payment"].filter(lambda p: p.method == "DRG")
    norms = source.keep(_norms(case, drg, kb["drg_weight"], scheme))
    return RuleInputs(
        case=case,
        lines=lines,
        diag=t["diseinfo"],
        oprn=t["oprninfo"],
        hilist=hilist,
        drg=drg,
        regroup=regroup,
        payment=payment,
        scope=t["case_scope"],
        norms=norms,
        kb=kb,
        scheme=scheme,
        rule_params={
            rule_id: dict(entry.get("params") or {})
            for rule_id, entry in config.get("audit", {}).get("rules", {}).items()
            if entry.get("enabled", True)
        },
        settings={
            key: value
            for key, value in config.get("audit", {}).items()
            if key not in ("rules", "text_limit")
        },
        cached=source.cached,
        keep=source.keep,
    )


def _norms(case: ir.Table, drg: ir.Table, weights: ir.Table, scheme: str) -> ir.Table:
    """Per DRG: average cost and LOS — the region's published norms, else derived from the data.

    The average cost is money (MONEY, like the published ``avg_cost``): the exact mean of the
    cases' costs rounded once at the fen (``mean_yuan``). The average LOS is kept twice: as a
    double (``avg_los``, the published column's type) for the texts, and as the exact fraction
    ``los_total / los_n`` (days summed over the cases, or the published average over 1) that
    the ratio thresholds compare with, by cross-multiplying (``los × los_n < los_total ×
    ratio``: no division, no rounding; as doubles 100 / 3 × 0.45 is 15.000000000000002, and a
    stay of 15 days was "below 45 %" of an average of 33⅓).
    """
    import ibis

    from huiyan.audit.helpers import mean_yuan

    g = drg.filter(drg.status == "SUCCESS").select(n_setl_id=drg.setl_id, n_drg=drg.drg)
    c = case.join(g, case.setl_id == g.n_setl_id)
    derived = c.group_by(drg=c.n_drg).aggregate(
        d_cost_sum=c.medfee.sum(),
        d_cost_n=c.medfee.count(),
        d_los=c.los.cast("float64").mean(),
        d_los_sum=c.los.sum(),
        d_los_n=c.los.count(),
        n_cases=c.setl_id.count(),
    )
    derived = derived.mutate(d_cost=mean_yuan(derived.d_cost_sum, derived.d_cost_n))
    w = weights.filter(weights.scheme == scheme)
    w = w.select(w_drg=w.drg, w_cost=w.avg_cost.cast(MONEY_TYPE), w_los=w.avg_los)
    j = derived.left_join(w, derived.drg == w.w_drg)
    published = j.w_los.notnull()
    return j.select(
        "drg",
        "n_cases",
        avg_cost=j.w_cost.fill_null(j.d_cost),
        avg_los=j.w_los.fill_null(j.d_los),
        # The published double read as the decimal it was written as (one correctly rounded
        # cast at six decimals, as ``model.exact.factor``).
        los_total=ibis.ifelse(
            published, j.w_los.cast("decimal(38, 6)"), j.d_los_sum.cast("decimal(38, 6)")
        ),
        los_n=ibis.ifelse(published, 1, j.d_los_n).cast("int64"),
    )
