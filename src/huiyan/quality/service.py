"""Running QC on a store: all checks, the issue table and the indicators, in one call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from huiyan.engine import Engine
from huiyan.quality.indicators import indicators
from huiyan.quality.inputs import QcInputs
from huiyan.quality.rejected import rejected_issues, rejected_lists
from huiyan.quality.runner import active_checks, check_expr, inputs, run_checks
from huiyan.quality.spec import CheckSpec


@dataclass
class QcResult:
    issues: pa.Table
    indicators: pa.Table


def store_inputs(store: Engine, config: Mapping[str, Mapping[str, Any]]) -> QcInputs:
    """QC inputs over the store's tables (missing optional tables are empty)."""
    return inputs(
        store.table,
        store.register,
        config["qc"],
        payment_scheme=config.get("grouping", {}).get("payment_scheme", "chs-drg-1.1"),
    )


def run_qc(
    store: Engine,
    config: Mapping[str, Mapping[str, Any]],
    *,
    on_check: Callable[[CheckSpec, int], None] | None = None,
) -> QcResult:
    """Run every active check, replace ``qc_issue`` and ``qc_indicator`` with the new results."""
    q = store_inputs(store, config)
    issues = run_checks(q, active_checks(config["qc"]), on_check=on_check)
    # Lists rejected at ingest are QC findings too, and count in the indicators.
    rejected = rejected_lists(store)
    issues = pa.concat_tables([issues, rejected_issues(rejected).cast(issues.schema)])
    store.write("qc_issue", issues, mode="replace")
    med_types = config.get("scope", {}).get("inpatient_med_types", [])
    ind = indicators(
        q,
        store.table("qc_issue"),
        inpatient_med_types=med_types,
        rejected=store.register("_qc_rejected", rejected) if rejected.num_rows else None,
    )
    ind = store.to_arrow(ind)
    store.write("qc_indicator", ind, mode="replace")
    return QcResult(issues=issues, indicators=ind)


def explain(
    store: Engine, config: Mapping[str, Mapping[str, Any]], setl_id: str
) -> list[tuple[CheckSpec, list[dict[str, Any]]]]:
    """Every active check's verdict on one settlement: the spec and its failing rows (empty = pass)."""
    q = store_inputs(store, config)
    out = []
    for spec in active_checks(config["qc"]):
        e = check_expr(q, spec)
        rows = store.to_arrow(e.filter(e.setl_id == setl_id)).to_pylist()
        out.append((spec, rows))
    return out
