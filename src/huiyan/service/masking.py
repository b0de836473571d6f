"""Desensitisation of personal data in API output and exports (脱敏).

Names keep the family name, ID numbers the region prefix and the last four characters, phone
numbers the first three and last four digits; ``psn_no`` is replaced by a keyed pseudonym
(stable per key, so rows of one person still group together, but not reversible).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Any

NAME_FIELDS = frozenset({"psn_name", "name", "patn_name", "coner_name"})
ID_FIELDS = frozenset({"certno", "psn_cert_no"})
PHONE_FIELDS = frozenset({"tel", "phone", "mobile", "coner_tel", "emp_tel"})
PSEUDONYM_FIELDS = frozenset({"psn_no"})
TEXT_FIELDS = frozenset({"vola_cont", "text", "note", "initial_note", "final_note", "dscg_diag"})
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_name(v: str) -> str:
    return v[:1] + "*" * max(len(v) - 1, 1) if v else v


def mask_id(v: str) -> str:
    return v[:6] + "*" * max(len(v) - 10, 0) + v[-4:] if len(v) > 10 else "*" * len(v)


def mask_phone(v: str) -> str:
    return v[:3] + "****" + v[-4:] if len(v) >= 11 else "*" * len(v)


def pseudonym(v: str, key: bytes) -> str:
    return "P" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:16]


def mask_text(v: str) -> str:
    """Phone and ID numbers that appear inside free text."""
    return _ID_IN_TEXT.sub(
        lambda m: m.group(1) + "********" + m.group(2), _PHONE_IN_TEXT.sub(r"\1****\2", v)
    )


def mask_row(row: dict[str, Any], key: bytes) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, str) and v:
            if k in NAME_FIELDS:
                v = mask_name(v)
            elif k in ID_FIELDS:
                v = mask_id(v)
            elif k in PHONE_FIELDS:
                v = mask_phone(v)
            elif k in PSEUDONYM_FIELDS:
                v = pseudonym(v, key)
            elif k in TEXT_FIELDS:
                v = mask_text(v)
        out[k] = v
    return out


def mask_rows(rows: Iterable[dict[str, Any]], key: bytes) -> list[dict[str, Any]]:
    return [mask_row(r, key) for r in rows]
