"""Settlement lists rejected at ingest stay visible to QC.

A list quarantined at ingest (admission after discharge, a code outside its enumeration, a
negative amount ...) never reaches ``setl_list``, so the checks cannot see it. Here each one
becomes an error-level ``qc_issue`` under the ingest check that rejected it
(``data/rejected.yaml``), with the institution and discharge month read from the row as
submitted, and it counts in the four indicators as an uploaded list that failed. A list
accepted later (a corrected file) is no longer rejected.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from datetime import datetime
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


def _period(submitted: str | None) -> str:
    text = (submitted or "").strip()
    if text:
        with suppress(ValueError):
            return datetime.fromisoformat(text).strftime("%Y-%m")
        for fmt in _TIME_FORMATS:
            with suppress(ValueError):
                return datetime.strptime(text, fmt).strftime("%Y-%m")
    return UNKNOWN_PERIOD


def _blank_none(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def rejected_lists(store: Engine) -> pa.Table:
    """One row per rejected settlement and reason: ``setl_id, medins_code, period, check_id,
    field, value, message``. Settlements stored in ``setl_list`` since are left out.

    Rejected rows are few (they are errors), so they are read into the process and their
    submitted JSON record parsed here, the same on every engine.
    """
    cols = ["setl_id", "medins_code", "period", "check_id", "field", "value", "message"]
    if not store.has(QUARANTINE.name):
        return pa.table({c: pa.array([], pa.string()) for c in cols})
    checks = rejected_checks()
    q = store.table(QUARANTINE.name)
    q = q.filter(q.table_name == SETL_LIST.name).select(
        "record", "row_number", "source_file", "reason_code", "field", "value", "reason"
    )
    stored: set[str | None] = set()
    if store.has(SETL_LIST.name):
        setl = store.table(SETL_LIST.name).select("setl_id").distinct()
        stored = set(store.to_arrow(setl).column("setl_id").to_pylist())
    out: dict[tuple[Any, ...], None] = {}
    for r in store.to_arrow(q).to_pylist():
        record = json.loads(r["record"]) if r["record"] else {}
        submitted = record.get("setl_id")
        # SQL ``NOT IN`` semantics, as before: a row without a setl_id is left out once any
        # settlement is stored.
        if stored and (submitted is None or str(submitted) in stored or None in stored):
            continue
        # The setl_id of a row rejected for lacking one is its place in the file.
        file = re.split(r"[\\/]", r["source_file"] or "")[-1]
        setl_id = _blank_none(submitted) or f"第{r['row_number']}行@{file}"
        check = checks.get(r["reason_code"])
        row = (
            setl_id,
            _blank_none(record.get("medins_code")),
            _period(None if record.get("dscg_time") is None else str(record["dscg_time"])),
            check["id"] if check else "QC-I010",
            r["field"] or "",
            r["value"],
            "入库时被拒绝(已隔离): " + r["reason"] if r["reason"] is not None else None,
        )
        out[row] = None
    rows = sorted(out, key=lambda x: (x[0], x[3], x[4]))
    return pa.table({c: pa.array([x[i] for x in rows], pa.string()) for i, c in enumerate(cols)})


def rejected_issues(lists: pa.Table) -> pa.Table:
    """The ``qc_issue`` rows of ``rejected_lists``: one error per settlement and reason."""
    return pa.table(
        {
            c: lists.column(c) if c in lists.column_names else pa.array(["error"] * len(lists))
            for c in QC_ISSUE.columns
        }
    )
