"""Input checks: the reference's (mapping, CHECK_FAILED) and the stricter ``checked`` ones.

Each check is a boolean per case; ``first_status`` picks the first that holds in the order of
``result.CHECKED_STATUSES``. The reference checks nothing beyond CHECK_FAILED, so the default
mode keeps its behaviour exactly; ``checked`` adds statuses for what it lets through:
unknown codes, a manifestation (asterisk-only) principal diagnosis, a principal diagnosis of
the other sex and missing newborn data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from huiyan.grouping.compiled import CompiledScheme
from huiyan.grouping.result import CHECKED_STATUSES, REFERENCE_INPUT_STATUSES

NEWBORN_MAX_DAYS = 28  # README, Validation: newborn weight required up to 28 days


def manifestation_only(code: str) -> bool:
    """A bare asterisk code (e.g. ``G63.2*``) may not be principal; ``E11.4+G63.2*`` may."""
    return code.endswith("*") and "+" not in code


def gender_restricted_lists(cs: CompiledScheme) -> list[tuple[str, str]]:
    """(principal list, required gender code) of MDC entries that test gender (MDCM, MDCN)."""
    codes = cs.scheme.logic["input"]["gender_codes"]
    out = []
    for mdc in cs.scheme.logic["mdcs"]:
        parts = mdc["entry"].get("all", [])
        lists = [p["principal_dx_in"] for p in parts if "principal_dx_in" in p]
        genders = [p["gender"] for p in parts if "gender" in p]
        if lists and genders:
            out.append((lists[0], codes[genders[0]]))
    return out


@dataclass
class Flags:
    """Per-case check results (arrays in the batch path, 1-element arrays for one case)."""

    zd_not_mapping: np.ndarray
    ss_not_mapping: np.ndarray
    general: np.ndarray  # gender empty/invalid, age empty, no diagnosis left
    newborn_missing: np.ndarray  # reference newborn checks (age_days / weight empty)
    newborn_zero_weight: np.ndarray  # weight 0 for a newborn: passes the reference
    zd_not_valid: np.ndarray
    ss_not_valid: np.ndarray
    zd_not_principal: np.ndarray
    zd_not_match_gender: np.ndarray


def first_status(flags: Flags, *, checked: bool) -> np.ndarray:
    """Status per case from its flags ('' = go on and group)."""
    if checked:
        by_status = {
            "ZD_NOT_MAPPING": flags.zd_not_mapping,
            "SS_NOT_MAPPING": flags.ss_not_mapping,
            "CHECK_FAILED": flags.general,
            "NEWBORN_ERROR": flags.newborn_missing | flags.newborn_zero_weight,
            "ZD_NOT_VALID": flags.zd_not_valid,
            "SS_NOT_VALID": flags.ss_not_valid,
            "ZD_NOT_PRINCIPAL": flags.zd_not_principal,
            "ZD_NOT_MATCH_GENDER": flags.zd_not_match_gender,
        }
        order: tuple[str, ...] = CHECKED_STATUSES
    else:
        by_status = {
            "ZD_NOT_MAPPING": flags.zd_not_mapping,
            "SS_NOT_MAPPING": flags.ss_not_mapping,
            "CHECK_FAILED": flags.general | flags.newborn_missing,
        }
        order = REFERENCE_INPUT_STATUSES
    return np.select([by_status[s] for s in order], list(order), default="").astype(object)


def validation(
    gender: np.ndarray,
    num: dict[str, np.ndarray],
    n_dx: np.ndarray,
    cs: CompiledScheme,
    *,
    mapped: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(general, newborn_missing, newborn_zero_weight) from the case fields.

    ``num`` holds float arrays with NaN for missing; ``birth_weight`` here is the raw value
    (0 kept: it passes validation and only fails the weight bands).
    """
    valid = list(cs.scheme.logic["input"]["gender_valid"])
    empty = (gender == "") | (gender == None)  # noqa: E711 - object array holds None
    general = empty | ~np.isin(gender, valid) | np.isnan(num["age"])
    if mapped:
        general |= n_dx == 0
    age0 = num["age"] == 0
    days, weight = num["age_days"], num["birth_weight"]
    with np.errstate(invalid="ignore"):
        neonate = age0 & (days <= NEWBORN_MAX_DAYS)
    newborn_missing = (age0 & np.isnan(days)) | (neonate & np.isnan(weight))
    return general, newborn_missing, neonate & (weight == 0)
