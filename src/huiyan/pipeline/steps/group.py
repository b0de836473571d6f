"""Pipeline step ``group``: every settlement grouped by each configured DRG scheme -> ``drg_result``.

Configuration (section ``grouping``): ``schemes`` (each gets its own rows), ``mode`` (raw or
mapped), optional ``checked`` (extra input statuses) and ``explain`` (store the Chinese trace
of every case: true, false or auto, up to ``explain_max_cases``; slower: it runs the
single-case path per settlement). Re-running replaces the earlier rows of the same scheme, so
nothing is duplicated.

For the payment scheme, every case with a procedure is also grouped without its principal
procedure (``drg_regroup``): the group the case would reach if that procedure was not done,
on which the audit re-prices a principal procedure without any charge (UPCODE-002).
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.grouping import Case, group_case, group_table
from huiyan.grouping.store_cases import cases_from_store
from huiyan.model.tables import DRG_REGROUP, DRG_RESULT
from huiyan.pipeline.context import RunContext, StepReport

log = logging.getLogger(__name__)


def _traces(cases: pa.Table, scheme: str, mode: str, checked: bool) -> pa.Array:
    return pa.array(
        [
            "\n".join(group_case(Case.from_row(r), scheme, mode=mode, checked=checked).trace)
            for r in cases.to_pylist()
        ],
        pa.string(),
    )


def _explain(cfg: dict[str, Any], n_cases: int, report: StepReport) -> bool:
    setting = cfg.get("explain", "auto")
    if setting != "auto":
        return bool(setting)
    limit = int(cfg.get("explain_max_cases", 50_000))
    if n_cases <= limit:
        return True
    report.notes.append(
        f"病例数 {n_cases:,} 超过 {limit:,}, 未保存分组路径(trace); "
        "grouping.explain: true 可保存, huiyan group --explain 可查询"
    )
    return False


def _without_principal_procedure(cases: pa.Table, scheme: str, mode: str) -> pa.Table:
    """``drg_regroup`` rows: the cases with a procedure, grouped without the first one."""
    procedures = cases.column("procedures")
    has = pc.fill_null(pc.greater(pc.list_value_length(procedures), 0), False)
    some = cases.filter(has)
    removed = pc.list_element(some.column("procedures"), 0)
    rest = pc.list_slice(some.column("procedures"), 1)
    some = some.set_column(some.column_names.index("procedures"), "procedures", rest)
    result = group_table(some, scheme, mode=mode)
    return pa.table(
        {
            "setl_id": result.column("case_id"),
            "scheme": pa.array([scheme] * some.num_rows, pa.string()),
            "removed_oprn_code": removed,
            "status": result.column("status"),
            "drg": result.column("drg"),
        }
    )


def run(ctx: RunContext) -> StepReport:
    cfg = ctx.config.get("grouping", {})
    schemes: list[str] = list(cfg.get("schemes", ["chs-drg-1.1"]))
    mode = str(cfg.get("mode", "raw"))
    checked = bool(cfg.get("checked", False))
    report = StepReport(step="group")
    cases = cases_from_store(ctx.engine)
    explain = _explain(cfg, cases.num_rows, report)
    total = 0
    for scheme in schemes:
        result = group_table(cases, scheme, mode=mode, checked=checked)
        trace = (
            _traces(cases, scheme, mode, checked)
            if explain
            else pa.nulls(cases.num_rows, pa.string())
        )
        out = pa.table(
            {
                "setl_id": result.column("case_id"),
                "scheme": pa.array([scheme] * cases.num_rows, pa.string()),
                "status": result.column("status"),
                "mdc": result.column("mdc"),
                "adrg": result.column("adrg"),
                "drg": result.column("drg"),
                "has_mcc": result.column("has_mcc"),
                "has_cc": result.column("has_cc"),
                "trace": trace,
            }
        )
        ctx.engine.delete_where(DRG_RESULT.name, "scheme", [scheme])
        total += ctx.engine.write(DRG_RESULT.name, out)
        grouped = pc.sum(pc.equal(result.column("status"), "SUCCESS")).as_py() or 0
        rate = grouped / cases.num_rows if cases.num_rows else 0.0
        report.notes.append(f"{scheme}: {cases.num_rows} 例, 入组 {grouped} 例 ({rate:.1%})")
        if scheme == cfg.get("payment_scheme", schemes[0]):
            ctx.engine.delete_where(DRG_REGROUP.name, "scheme", [scheme])
            regrouped = _without_principal_procedure(cases, scheme, mode)
            report.rows[DRG_REGROUP.name] = ctx.engine.write(DRG_REGROUP.name, regrouped)
        log.info("grouped %d cases with %s (%s mode)", cases.num_rows, scheme, mode)
    report.rows[DRG_RESULT.name] = total
    return report
