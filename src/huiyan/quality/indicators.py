"""The four institution-month indicators of the settlement list (docs/domain-reference.md §3.8).

Period is the discharge month. With only settlement lists loaded, a settlement that requires a
list is an inpatient settlement in ``setl_list`` (``med_type`` among the configured inpatient
types, or blank); its list counts as uploaded when it carries a principal diagnosis in
``diseinfo`` (the clinical part of the list was filed). The other three rates use the uploaded
lists as denominator; the grouping rate uses those of them in DRG/DIP scope (``case_scope``;
no row = in scope). Definitions are repeated in the README and in the workbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis

from huiyan.quality.inputs import QcInputs
from huiyan.quality.rejected import field_check_ids
from huiyan.quality.spec import checks

if TYPE_CHECKING:
    import ibis.expr.types as ir

INDICATORS: dict[str, tuple[str, str]] = {
    "upload_rate": ("上传率", "已上传结算清单数 / 需上传清单的住院结算数"),
    "completeness_rate": ("完整率", "必填项完整且有效(无完整性/有效性错误)的清单数 / 已上传清单数"),
    "grouping_rate": (
        "入组率",
        "付费方案分组成功(SUCCESS)的清单数 / 已上传且纳入DRG/DIP付费范围的清单数",
    ),
    "qc_pass_rate": ("质控通过率", "无错误级质控问题的清单数 / 已上传清单数"),
}


def _flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.cast("int64")


def indicators(
    q: QcInputs,
    issues: ir.Table,
    *,
    inpatient_med_types: Sequence[str],
    rejected: ir.Table | None = None,
) -> ir.Table:
    """One row per institution, month and indicator with numerator, denominator and rate.

    ``rejected``: settlement lists rejected at ingest (``rejected.rejected_lists``): each is a
    list that was uploaded and failed (its issues are in ``issues``), never grouped.
    """
    s = q.setl_list
    cases = s.filter(s.med_type.isnull() | s.med_type.isin(list(inpatient_med_types))).select(
        "setl_id", "medins_code", period=s.dscg_time.strftime("%Y-%m")
    )
    listed = q.principal.select(listed_id=q.principal.setl_id).distinct()
    if rejected is not None:
        bad = rejected.select("setl_id", "medins_code", "period").distinct()
        cases = cases.union(bad)
        listed = listed.union(bad.select(listed_id=bad.setl_id)).distinct()
    err = issues.filter(issues.severity == "error")
    field_checks = sorted(c.id for c in checks() if c.category in ("completeness", "validity"))
    field_checks += field_check_ids()
    incomplete = err.filter(err.check_id.isin(field_checks)).select(inc_id=err.setl_id).distinct()
    failed = err.select(fail_id=err.setl_id).distinct()
    r = q.drg_result
    grouped = (
        r.filter((r.scheme == q.payment_scheme) & (r.status == "SUCCESS"))
        .select(grp_id=r.setl_id)
        .distinct()
    )
    c = q.case_scope
    out_scope = c.filter(~c.in_scope).select(out_id=c.setl_id).distinct()

    j = (
        cases.left_join(listed, cases.setl_id == listed.listed_id)
        .left_join(incomplete, cases.setl_id == incomplete.inc_id)
        .left_join(failed, cases.setl_id == failed.fail_id)
        .left_join(grouped, cases.setl_id == grouped.grp_id)
        .left_join(out_scope, cases.setl_id == out_scope.out_id)
    )
    up = j.listed_id.notnull()
    j = j.select(
        "medins_code",
        "period",
        required=ibis.literal(1, "int64"),
        uploaded=_flag(up),
        complete=_flag(up & j.inc_id.isnull()),
        passed=_flag(up & j.fail_id.isnull()),
        in_scope=_flag(up & j.out_id.isnull()),
        grouped=_flag(up & j.out_id.isnull() & j.grp_id.notnull()),
    )
    m = j.group_by(["medins_code", "period"]).aggregate(
        required=j.required.sum(),
        uploaded=j.uploaded.sum(),
        complete=j.complete.sum(),
        passed=j.passed.sum(),
        in_scope=j.in_scope.sum(),
        grouped=j.grouped.sum(),
    )
    pairs = {
        "upload_rate": ("uploaded", "required"),
        "completeness_rate": ("complete", "uploaded"),
        "grouping_rate": ("grouped", "in_scope"),
        "qc_pass_rate": ("passed", "uploaded"),
    }
    parts = []
    for name, (num, den) in pairs.items():
        n, d = m[num].cast("int64"), m[den].cast("int64")
        parts.append(
            m.select(
                "medins_code",
                "period",
                indicator=ibis.literal(name),
                numerator=n,
                denominator=d,
                rate=ibis.ifelse(
                    d > 0, n.cast("float64") / d.cast("float64"), ibis.null("float64")
                ),
            )
        )
    return ibis.union(*parts).order_by(["medins_code", "period", "indicator"])
