"""Settlement lists rejected at ingest stay visible to QC.

A list quarantined at ingest (admission after discharge, a code outside its enumeration, a
negative amount ...) never reaches ``setl_list``, so the checks cannot see it. Here each one
becomes an error-level ``qc_issue`` under the ingest check that rejected it
(``data/rejected.yaml``), with the institution and discharge month read from the row as
submitted, and it counts in the four indicators as an uploaded list that failed. A list
accepted later (a corrected file) is no longer rejected. Rejected rows live in the DuckDB
store only (``quarantine``), so this is plain SQL on the store's connection.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa
import yaml

from huiyan.engine import Engine
from huiyan.model.tables import QC_ISSUE, QUARANTINE, SETL_LIST

UNKNOWN_PERIOD = "未知"

# Discharge times as submitted: the formats ingest reads (ISO first).
_TIME_FORMATS = ("%Y%m%d%H%M%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M")


@cache
def rejected_checks() -> dict[str, dict[str, Any]]:
    """Quarantine reason code -> ``{id, name, category}`` of the ingest check."""
    text = resources.files("huiyan.quality").joinpath("data/rejected.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def field_check_ids() -> list[str]:
    """Ingest checks that count against the completeness rate (completeness and validity)."""
    return sorted(
        {
            c["id"]
            for c in rejected_checks().values()
            if c["category"] in ("completeness", "validity")
        }
    )


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def rejected_lists(store: Engine) -> pa.Table:
    """One row per rejected settlement and reason: ``setl_id, medins_code, period, check_id,
    field, value, message``. Settlements stored in ``setl_list`` since are left out."""
    cols = ["setl_id", "medins_code", "period", "check_id", "field", "value", "message"]
    if not store.has(QUARANTINE.name):
        return pa.table({c: pa.array([], pa.string()) for c in cols})
    checks = rejected_checks()
    ids = " ".join(f"WHEN {_lit(code)} THEN {_lit(c['id'])}" for code, c in checks.items())
    dscg = "nullif(trim(q.record->>'dscg_time'), '')"
    parsed = ", ".join(
        [f"TRY_CAST({dscg} AS TIMESTAMP)"]
        + [f"try_strptime({dscg}, {_lit(f)})" for f in _TIME_FORMATS]
    )
    stored = (
        f"AND q.record->>'setl_id' NOT IN (SELECT setl_id FROM {SETL_LIST.name})"
        if store.has(SETL_LIST.name)
        else ""
    )
    # The setl_id of a row rejected for lacking one is its place in the file.
    return store.con.sql(
        f"""
        SELECT DISTINCT
            coalesce(nullif(trim(q.record->>'setl_id'), ''),
                     '第' || q.row_number || '行@' || parse_filename(q.source_file)) AS setl_id,
            nullif(trim(q.record->>'medins_code'), '') AS medins_code,
            coalesce(strftime(coalesce({parsed}), '%Y-%m'), {_lit(UNKNOWN_PERIOD)}) AS period,
            CASE q.reason_code {ids} ELSE 'QC-I010' END AS check_id,
            coalesce(q.field, '') AS field,
            q.value,
            '入库时被拒绝(已隔离): ' || q.reason AS message
        FROM {QUARANTINE.name} q
        WHERE q.table_name = {_lit(SETL_LIST.name)} {stored}
        ORDER BY setl_id, check_id, field
        """
    ).to_arrow_table()


def rejected_issues(lists: pa.Table) -> pa.Table:
    """The ``qc_issue`` rows of ``rejected_lists``: one error per settlement and reason."""
    return pa.table(
        {
            c: lists.column(c) if c in lists.column_names else pa.array(["error"] * len(lists))
            for c in QC_ISSUE.columns
        }
    )
