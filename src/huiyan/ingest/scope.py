"""DRG/DIP payment scope (付费范围): which settlements are paid by group, and why not.

Every settlement gets a ``case_scope`` row; out-of-scope cases are kept and still QC-checked
and audited. The exclusions and their order come from the ``scope`` configuration section
(``kb/data/config/scope.yaml``); the first exclusion that matches gives the reason.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from huiyan.engine import Store
from huiyan.model import label
from huiyan.model.tables import CASE_SCOPE, DISEINFO, SETL_LIST


def _principal_category(store: Store) -> ir.Table:
    d = store.table(DISEINFO.name)
    principal = d.filter((d.diag_srt_no == 1) | (d.maindiag_flag == "1"))
    return principal.group_by("setl_id").aggregate(principal_cat=principal.diag_code.min()[:3])


def scope_table(store: Store, scope: dict[str, Any]) -> ir.Table:
    """The ``case_scope`` rows for every stored settlement, as an Ibis expression."""
    s = store.table(SETL_LIST.name)
    s = s.left_join(_principal_category(store), "setl_id").select(s, "principal_cat")
    ex = scope["exclude"]
    los = (s.dscg_time.date() - s.adm_time.date()).cast("int32")
    med = s.med_type
    psych = scope["psychiatric_diag_prefixes"]
    rules: list[tuple[str, ir.BooleanValue, str]] = [
        (
            "not_inpatient",
            med.notnull() & ~med.isin(scope["inpatient_med_types"]),
            "医疗类别非住院",
        ),
        ("maternity", (med == "52") | (s.insutype == "510"), "生育住院(医疗类别52或生育保险)"),
        ("out_of_area", s.out_setl_flag.isin(["3", "4"]), "异地就医结算"),
        (
            "self_pay",
            (s.fund_pay_sumamt == 0) & (s.ownpay_amt >= s.medfee_sumamt),
            "基金未支付且全部自费",
        ),
        (
            "psychiatric",
            (med == "9901")
            | (s.principal_cat.isin(psych) & (los > scope["psychiatric_long_stay_days"])),
            f"精神类长期住院(医疗类别9901或主诊断{psych[0]}–{psych[-1]}且住院超过"
            f"{scope['psychiatric_long_stay_days']}天)",
        ),
        ("rehabilitation", med == "9902", "康复住院(医疗类别9902)"),
        ("day_surgery", med == "2114", "日间手术(医疗类别2114)"),
        (
            "excluded_dept",
            s.dscg_caty.isin(scope["excluded_depts"] or ["\0"]),
            "出院科别按其他方式付费",
        ),
    ]
    active = [
        (code, cond.fill_null(False), note) for code, cond, note in rules if ex.get(code, True)
    ]
    reason = ibis.cases(*[(cond, code) for code, cond, _ in active], else_="in_scope")
    note = ibis.cases(
        *[(cond, note) for _, cond, note in active], else_=label("scope_reason", "in_scope")
    )
    return s.select(
        setl_id=s.setl_id,
        in_scope=reason == "in_scope",
        scope_reason=reason,
        scope_note=note,
    )


def write_scope(store: Store, scope: dict[str, Any]) -> dict[str, int]:
    """Recompute ``case_scope`` for all settlements; returns the count per reason."""
    result = scope_table(store, scope).to_pyarrow()
    store.write(CASE_SCOPE.name, result, mode="replace")
    counts = result.group_by("scope_reason").aggregate([("setl_id", "count")])
    return dict(
        zip(
            counts.column("scope_reason").to_pylist(),
            counts.column("setl_id_count").to_pylist(),
            strict=True,
        )
    )
