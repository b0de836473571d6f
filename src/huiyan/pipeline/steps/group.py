"""Pipeline step ``group``: every settlement grouped by each configured DRG scheme -> ``drg_result``.

Configuration (section ``grouping``): ``schemes`` (each gets its own rows), ``mode`` (raw or
mapped), optional ``checked`` (extra input statuses) and ``explain`` (store the Chinese trace
of every case: true, false or auto, up to ``explain_max_cases``; slower: it runs the
single-case path per settlement). Re-running replaces the earlier rows of the same scheme, so
nothing is duplicated.

For the payment scheme, every case with a procedure is also grouped without its principal
procedure (``drg_regroup``, see ``grouping.outputs.regroup_rows``).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from huiyan.grouping.outputs import drg_result_rows, regroup_rows
from huiyan.grouping.store_cases import cases_expr
from huiyan.model.tables import DISEINFO, DRG_REGROUP, DRG_RESULT, OPRNINFO, SETL_LIST
from huiyan.pipeline.context import RunContext, StepReport

log = logging.getLogger(__name__)


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


def run(ctx: RunContext) -> StepReport:
    cfg = ctx.config.get("grouping", {})
    schemes: list[str] = list(cfg.get("schemes", ["chs-drg-1.1"]))
    mode = str(cfg.get("mode", "raw"))
    checked = bool(cfg.get("checked", False))
    report = StepReport(step="group")
    eng = ctx.engine
    cases = cases_expr(
        eng.table(SETL_LIST.name), eng.table(DISEINFO.name), eng.table(OPRNINFO.name)
    )
    n_cases = eng.count(SETL_LIST.name)
    explain = _explain(cfg, n_cases, report)
    total = 0
    for scheme in schemes:
        rows = partial(drg_result_rows, scheme=scheme, mode=mode, checked=checked, explain=explain)
        out = eng.map_batches(cases, rows, DRG_RESULT.arrow_schema())
        total += eng.replace_where(DRG_RESULT.name, {"scheme": [scheme]}, out)
        result = eng.table(DRG_RESULT.name)
        mine = result.filter(result.scheme == scheme)
        counts = eng.to_arrow(mine.aggregate(grouped=(mine.status == "SUCCESS").sum().fill_null(0)))
        grouped = int(counts.column("grouped")[0].as_py() or 0)
        rate = grouped / n_cases if n_cases else 0.0
        report.notes.append(f"{scheme}: {n_cases} 例, 入组 {grouped} 例 ({rate:.1%})")
        if scheme == cfg.get("payment_scheme", schemes[0]):
            regroup = partial(regroup_rows, scheme=scheme, mode=mode)
            regrouped = eng.map_batches(cases, regroup, DRG_REGROUP.arrow_schema())
            report.rows[DRG_REGROUP.name] = eng.replace_where(
                DRG_REGROUP.name, {"scheme": [scheme]}, regrouped
            )
        log.info("grouped %d cases with %s (%s mode)", n_cases, scheme, mode)
    report.rows[DRG_RESULT.name] = total
    return report
