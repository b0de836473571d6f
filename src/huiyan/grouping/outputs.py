"""The grouper's stored results from a batch of cases: ``drg_result`` and ``drg_regroup`` rows.

Pure functions of an Arrow batch of cases (``store_cases.cases_expr``), so an engine can run
them on each partition of the case table (``Engine.map_batches``) and get the same rows.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.grouping.batch import group_table
from huiyan.grouping.cases import Case
from huiyan.grouping.single import group_case
from huiyan.model.tables import DRG_REGROUP, DRG_RESULT


def _table(batch: pa.Table | pa.RecordBatch) -> pa.Table:
    return batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])


def traces(cases: pa.Table, scheme: str, mode: str, checked: bool) -> pa.Array:
    """The Chinese grouping path of every case (single-case grouper; slow, one case at a time)."""
    return pa.array(
        [
            "\n".join(group_case(Case.from_row(r), scheme, mode=mode, checked=checked).trace)
            for r in cases.to_pylist()
        ],
        pa.string(),
    )


def drg_result_rows(
    batch: pa.Table | pa.RecordBatch,
    *,
    scheme: str,
    mode: str = "raw",
    checked: bool = False,
    explain: bool = False,
) -> pa.Table:
    """``drg_result`` rows of ``batch`` grouped by ``scheme`` (``trace`` only if ``explain``)."""
    cases = _table(batch)
    result = group_table(cases, scheme, mode=mode, checked=checked)
    trace = (
        traces(cases, scheme, mode, checked) if explain else pa.nulls(cases.num_rows, pa.string())
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
    return DRG_RESULT.conform(out)


def regroup_rows(batch: pa.Table | pa.RecordBatch, *, scheme: str, mode: str = "raw") -> pa.Table:
    """``drg_regroup`` rows: the cases with a procedure, grouped without the first one.

    The group a case would reach if its principal procedure was not done; the audit re-prices
    a principal procedure without any charge on it (UPCODE-002).
    """
    cases = _table(batch)
    procedures = cases.column("procedures")
    has = pc.fill_null(pc.greater(pc.list_value_length(procedures), 0), False)
    some = cases.filter(has)
    removed = pc.list_element(some.column("procedures"), 0)
    rest = pc.list_slice(some.column("procedures"), 1)
    some = some.set_column(some.column_names.index("procedures"), "procedures", rest)
    result = group_table(some, scheme, mode=mode)
    out = pa.table(
        {
            "setl_id": result.column("case_id"),
            "scheme": pa.array([scheme] * some.num_rows, pa.string()),
            "removed_oprn_code": removed,
            "status": result.column("status"),
            "drg": result.column("drg"),
        }
    )
    return DRG_REGROUP.conform(out)
