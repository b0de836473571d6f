"""From the code the decision procedure returns to status, mdc, adrg and drg (README, Result)."""

from __future__ import annotations

from dataclasses import dataclass, field

FAIL_CODE = "0000"
EMPTY = ("0000", "00", "0000")

# Input statuses in order of precedence: the first that applies is the case's status.
# Reference statuses come first in the order the reference checks them; the `checked` extras
# (input checks the reference does not make) follow and never change a reference failure.
REFERENCE_INPUT_STATUSES = ("ZD_NOT_MAPPING", "SS_NOT_MAPPING", "CHECK_FAILED")
CHECKED_STATUSES = (
    "ZD_NOT_MAPPING",
    "SS_NOT_MAPPING",
    "CHECK_FAILED",
    "NEWBORN_ERROR",
    "ZD_NOT_PRINCIPAL",  # before ZD_NOT_VALID: a bare asterisk code is also not in the dictionary
    "ZD_NOT_VALID",
    "SS_NOT_VALID",
    "ZD_NOT_MATCH_GENDER",
)


def classify(code: str, results: dict | None = None) -> tuple[str, str, str, str]:
    """(status, mdc, adrg, drg) of a returned code.

    ``results`` is the scheme's optional ``results`` key (REGIONAL.md): cells of the
    ``fail`` (code ``0000``) and ``fail_in_mdc`` rows that a regional scheme writes otherwise.

    >>> classify("BB11")
    ('SUCCESS', 'MDCB', 'BB1', 'BB11')
    >>> classify("BQY")
    ('QY', 'MDCB', 'QY', 'BQY')
    >>> classify("0000")
    ('FAIL', '0000', '00', '0000')
    """
    if code == FAIL_CODE:
        return ("FAIL", *_override(EMPTY, (results or {}).get("fail")))
    mdc = "MDC" + code[0]
    if code[1:3] == "QY":
        return "QY", mdc, "QY", code
    if code[1:3] == "00":
        return ("FAIL", *_override((mdc, "00", code), (results or {}).get("fail_in_mdc")))
    return "SUCCESS", mdc, code[:3], code


def rejected(results: dict | None = None) -> tuple[str, str, str]:
    """(mdc, adrg, drg) of a case rejected by the input checks (scheme ``results.rejected``)."""
    return _override(EMPTY, (results or {}).get("rejected"))


def _override(cells: tuple[str, str, str], override: dict | None) -> tuple[str, str, str]:
    if not override:
        return cells
    mdc, adrg, drg = cells
    return override.get("mdc", mdc), override.get("adrg", adrg), override.get("drg", drg)


@dataclass
class GroupResult:
    """One case's result; ``trace`` holds the Chinese explanation lines (single-case path)."""

    case_id: str
    status: str
    mdc: str = EMPTY[0]
    adrg: str = EMPTY[1]
    drg: str = EMPTY[2]
    has_mcc: bool | None = None
    has_cc: bool | None = None
    trace: list[str] = field(default_factory=list)
    drg_name: str = ""

    def key(self) -> tuple[str, str, str, str]:
        return self.status, self.mdc, self.adrg, self.drg
