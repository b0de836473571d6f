"""Desensitisation of personal data in API output and exports (脱敏).

Which column is personal, and how it is masked, comes from ``huiyan.report.safe`` (driven by
``Field.privacy`` in the model), so the API, the CLI exports and the dashboard mask alike and
give one person the same pseudonym. Free-text columns (finding texts, appeal texts) also get
phone and ID numbers inside them masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from huiyan.report.safe import mask_value, privacy_of

TEXT_FIELDS = frozenset({"vola_cont", "text", "note", "initial_note", "final_note"})
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_text(v: str) -> str:
    """Phone and ID numbers that appear inside free text."""
    v = _PHONE_IN_TEXT.sub(r"\1****\2", v)
    return _ID_IN_TEXT.sub(lambda m: m.group(1) + "********" + m.group(2), v)


def mask_row(row: dict[str, Any], key: str, table: str | None = None) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if v is not None and v != "":
            kind = privacy_of(k, table)
            if kind is not None:
                v = mask_value(kind, v, key)
            elif k in TEXT_FIELDS and isinstance(v, str):
                v = mask_text(v)
        out[k] = v
    return out


def mask_rows(
    rows: Iterable[dict[str, Any]], key: str, table: str | None = None
) -> list[dict[str, Any]]:
    return [mask_row(r, key, table) for r in rows]
