"""Normalisation of diagnosis and procedure codes, done once at ingest.

ICD-10 医保版 2.0: ``S32.000x011`` — letter + 2 digits, ``.``, digits, optional lower-case
``x`` + 3 digits for clinical extensions; dagger/asterisk pairs joined by ``+``
(``E11.400x024+G63.2*``). ICD-9-CM-3 医保版 2.0: digits, ``.``, digits, optional ``x`` + 3 digits.

>>> normalize_diag(" s32.000X011 ")
'S32.000x011'
>>> normalize_diag("e11.400x024＋g63.2＊")
'E11.400x024+G63.2*'
>>> normalize_diag("X59.900")
'X59.900'
>>> normalize_diag("i10.X00x002")
'I10.x00x002'
>>> normalize_oprn(" 00.6600X004")
'00.6600x004'
>>> normalize_oprn("39.901a1")
'39.901A1'
"""

from __future__ import annotations

import re
import unicodedata

_DAGGER = re.compile(r"\s*[†+]\s*")


def _clean(code: str) -> str:
    # NFKC folds full-width ．＋＊ and digits typed with a Chinese IME into ASCII.
    return unicodedata.normalize("NFKC", code).strip().replace(" ", "")


def normalize_diag(code: str | None) -> str | None:
    """Canonical form of an ICD-10 code: trimmed, upper-case except the extension ``x``."""
    if code is None:
        return None
    text = _clean(code)
    if not text:
        return None
    parts = _DAGGER.sub("+", text.upper()).split("+")
    return "+".join(_lower_x_after_dot(part) for part in parts)


def _lower_x_after_dot(code: str) -> str:
    # The letter X before the dot is a category (X59 external cause); after it, x is the
    # placeholder or clinical-extension mark of 医保版 2.0 (I10.x00, S32.000x011), lower case.
    head, dot, tail = code.partition(".")
    return head + dot + tail.replace("X", "x")


def normalize_oprn(code: str | None) -> str | None:
    """Canonical form of an ICD-9-CM-3 code: trimmed, extension ``x`` in lower case."""
    if code is None:
        return None
    # Extensions are a lower-case x; the few sub-item letters (39.999A9 …) are upper case.
    text = _clean(code).upper().replace("X", "x")
    return text or None


def is_asterisk_only(code: str) -> bool:
    """A bare manifestation (asterisk) code, which may not be a principal diagnosis."""
    return code.endswith("*") and "+" not in code


def category(code: str) -> str:
    """The three-character ICD-10 category (类目) of a diagnosis code: ``I21.000`` -> ``I21``."""
    return code[:3]
