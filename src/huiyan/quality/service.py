"""Running QC on a store: all checks, the issue table and the indicators, in one call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from huiyan.engine import Engine
from huiyan.model.domain import NATIONAL_SCHEME
from huiyan.model.tables import QC_ISSUE
from huiyan.quality.indicators import indicators
from huiyan.quality.inputs import QcInputs
from huiyan.quality.rejected import rejected_issues, rejected_lists
from huiyan.quality.runner import active_checks, check_expr, inputs, run_checks
from huiyan.quality.spec import CheckSpec


@dataclass
class QcResult:
    indicators: pa.Table
    store: Engine
    n_issues: int
    n_errors: int

    @property
    def issues(self) -> pa.Table:
        """The issues as stored in ``qc_issue`` (read on demand: millions of rows at scale)."""
        return self.store.read("qc_issue")


def store_inputs(store: Engine, config: Mapping[str, Mapping[str, Any]]) -> QcInputs:
    """QC inputs over the store's tables (missing optional tables are empty)."""
    return inputs(
        store.table,
        store.register,
        config["qc"],
        payment_scheme=config.get("grouping", {}).get("payment_scheme", NATIONAL_SCHEME),
    )


def run_qc(
    store: Engine,
    config: Mapping[str, Mapping[str, Any]],
    *,
    on_check: Callable[[CheckSpec, int], None] | None = None,
) -> QcResult:
    """Run every active check, replace ``qc_issue`` and ``qc_indicator`` with the new results."""
    q = store_inputs(store, config)
    specs = active_checks(config["qc"])
    # Lists rejected at ingest are QC findings too, and count in the indicators.
    rejected = rejected_lists(store)
    if store.capabilities.transactions:
        # Each check's issues go to the store as they come (inside the step's transaction):
        # at 1M settlements they are ~8M rows, gigabytes as one Arrow table in the process.
        store.write("qc_issue", QC_ISSUE.empty(), mode="replace")
        for spec in specs:
            n = store.write("qc_issue", QC_ISSUE.conform(store.to_arrow(check_expr(q, spec))))
            if on_check:
                on_check(spec, n)
        store.write("qc_issue", rejected_issues(rejected).cast(QC_ISSUE.arrow_schema()))
    else:
        issues = run_checks(q, specs, on_check=on_check)
        issues = pa.concat_tables([issues, rejected_issues(rejected).cast(issues.schema)])
        store.write("qc_issue", issues, mode="replace")
    stored = store.table("qc_issue")
    counts = store.to_arrow(
        stored.aggregate(n=stored.count(), errors=(stored.severity == "error").sum())
    ).to_pylist()[0]
    med_types = config.get("scope", {}).get("inpatient_med_types", [])
    ind = indicators(
        q,
        store.table("qc_issue"),
        inpatient_med_types=med_types,
        rejected=store.register("_qc_rejected", rejected) if rejected.num_rows else None,
    )
    ind = store.to_arrow(ind)
    store.write("qc_indicator", ind, mode="replace")
    return QcResult(
        indicators=ind,
        store=store,
        n_issues=int(counts["n"] or 0),
        n_errors=int(counts["errors"] or 0),
    )


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
