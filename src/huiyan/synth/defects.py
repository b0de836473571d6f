"""Planted settlement-list data defects (结算清单数据缺陷) for testing QC, labelled beside the data.

``generate(..., defect_rate=R)`` hands each month's finished tables to a :class:`Planter`,
which damages a share ``R`` of the cases that carry no violation label (so the audit labels
keep their meaning) in one of the kinds declared in ``data/defects.yaml``, cycling through the
kinds so that every kind appears. Each planted defect yields one label row per QC check that
must report it: ``setl_id, kind, check_id, field, description`` (``qc_defects.csv`` in the labels
folder, never in the dataset). Only defects that ingest keeps are planted (see the YAML).

A kind is a function registered with :func:`kind` under its YAML name; ``needs`` says which
cases it applies to, and the function returns extra reports that depend on the case (or ``[]``).
The defects use their own random stream, so ``defect_rate=0`` leaves the output unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from huiyan.kb.dictionaries import diagnoses, procedures
from huiyan.kb.sex_limits import required_sex
from huiyan.model.tables import TABLES

DEFECT_COLUMNS = ("setl_id", "kind", "check_id", "field", "description")
_STREAM = 0xDEFEC7  # mixed into the seed: the defects' random stream is independent


@dataclass(frozen=True)
class Report:
    """A QC check that must report a defect, and the field it reports."""

    check: str
    field: str
    front_page: bool = False  # expected only when the dataset has front pages (medrcd)


@dataclass(frozen=True)
class KindSpec:
    name: str
    description: str
    reports: tuple[Report, ...]


@cache
def kind_specs() -> dict[str, KindSpec]:
    """The declared defect kinds, in declaration order."""
    text = resources.files("huiyan.synth").joinpath("data/defects.yaml").read_text("utf-8")
    out = {}
    for name, raw in yaml.safe_load(text)["kinds"].items():
        reports = tuple(
            Report(r["check"], r["field"], bool(r.get("front_page"))) for r in raw["reports"]
        )
        out[name] = KindSpec(name, str(raw["description"]), reports)
    return out


@dataclass
class Case:
    """What the kinds need to know about one case of the month."""

    row: int
    setl_id: str
    medcasno: str
    age: int
    gend: str
    dscg_way: str
    flag31: str
    has_receiver: bool
    adm: dt.datetime
    dscg: dt.datetime
    n_dx: int
    has_oprn: bool
    has_fp: bool


class Tables:
    """One month's tables (name -> column -> Arrow array), edited in place by row."""

    def __init__(self, tables: dict[str, dict[str, pa.Array]]) -> None:
        self.t = tables
        self._keys: dict[tuple[str, str], np.ndarray] = {}

    def has(self, table: str) -> bool:
        return table in self.t

    def column(self, table: str, col: str) -> pa.Array:
        cols = self.t[table]
        if col not in cols:
            n = len(next(iter(cols.values())))
            cols[col] = pa.nulls(n, TABLES[table][col].type)
        return cols[col]

    def rows(self, table: str, key_col: str, key: str) -> np.ndarray:
        """Row numbers of ``table`` whose ``key_col`` is ``key``."""
        k = (table, key_col)
        if k not in self._keys:
            self._keys[k] = self.column(table, key_col).to_numpy(zero_copy_only=False)
        return np.flatnonzero(self._keys[k] == key)

    def get(self, table: str, col: str, row: int) -> Any:
        return self.column(table, col)[int(row)].as_py()

    def set(self, table: str, col: str, row: int, value: Any) -> None:
        arr = self.column(table, col)
        mask = np.zeros(len(arr), dtype=bool)
        mask[int(row)] = True
        new = pa.array([value], type=arr.type)
        self.t[table][col] = pc.replace_with_mask(arr, pa.array(mask), new)

    def append(self, table: str, values: dict[str, Any]) -> None:
        cols = self.t[table]
        for col in list(cols):
            cols[col] = pa.concat_arrays(
                [cols[col], pa.array([values.get(col)], type=cols[col].type)]
            )
        self._keys = {k: v for k, v in self._keys.items() if k[0] != table}


KindFn = Callable[[Tables, Case, np.random.Generator], list[Report]]
_KINDS: dict[str, tuple[Callable[[Case], bool], KindFn]] = {}


def kind(name: str, needs: Callable[[Case], bool] = lambda c: True) -> Callable[[KindFn], KindFn]:
    def register(fn: KindFn) -> KindFn:
        _KINDS[name] = (needs, fn)
        return fn

    return register


class Planter:
    """Plants defects month by month; the kind cycle continues across months."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.rng = np.random.default_rng([seed, _STREAM])
        self.cursor = 0
        missing = set(kind_specs()) ^ set(_KINDS)
        if missing:
            raise RuntimeError(
                f"defect kinds declared but not implemented (or vice versa): {missing}"
            )

    def plant(
        self, tables: dict[str, dict[str, pa.Array]], violation_ids: set[str]
    ) -> list[tuple[str, str, str, str, str]]:
        """Damage ``tables`` in place; returns the label rows. ``violation_ids`` are left alone."""
        t = Tables(tables)
        cases = [c for c in _cases(t) if c.setl_id not in violation_ids]
        order = self.rng.permutation(len(cases))
        free = [cases[i] for i in order]
        target = int(round(len(cases) * self.rate))
        names = list(kind_specs())
        labels: list[tuple[str, str, str, str, str]] = []
        placed, misses = 0, 0
        while placed < target and free and misses < len(names):
            name = names[self.cursor % len(names)]
            self.cursor += 1
            needs, fn = _KINDS[name]
            pos = next((k for k, c in enumerate(free) if needs(c)), None)
            if pos is None:
                misses += 1
                continue
            misses = 0
            case = free.pop(pos)
            spec = kind_specs()[name]
            for r in (*spec.reports, *fn(t, case, self.rng)):
                if not r.front_page or case.has_fp:
                    labels.append((case.setl_id, name, r.check, r.field, spec.description))
            placed += 1
        return labels


def _cases(t: Tables) -> list[Case]:
    s = {
        c: t.column("setl_list", c).to_pylist()
        for c in (
            "setl_id",
            "medcasno",
            "age",
            "gend",
            "dscg_way",
            "days_rinp_flag_31",
            "acp_medins_name",
            "adm_time",
            "dscg_time",
        )
    }
    dx_ids, dx_n = np.unique(
        t.column("diseinfo", "setl_id").to_numpy(zero_copy_only=False), return_counts=True
    )
    n_dx = dict(zip(dx_ids.tolist(), dx_n.tolist(), strict=True))
    o = t.t["oprninfo"]
    with_oprn = set(pc.filter(o["setl_id"], pc.equal(o["main_oprn_flag"], "1")).to_pylist())
    fp = set(t.column("medrcd", "medcasno").to_pylist()) if t.has("medrcd") else set()
    return [
        Case(
            row=i,
            setl_id=sid,
            medcasno=s["medcasno"][i],
            age=s["age"][i],
            gend=s["gend"][i],
            dscg_way=s["dscg_way"][i],
            flag31=s["days_rinp_flag_31"][i],
            has_receiver=s["acp_medins_name"][i] is not None,
            adm=s["adm_time"][i],
            dscg=s["dscg_time"][i],
            n_dx=n_dx.get(sid, 0),
            has_oprn=sid in with_oprn,
            has_fp=s["medcasno"][i] in fp,
        )
        for i, sid in enumerate(s["setl_id"])
    ]


# ----------------------------------------------------------------------------- helpers


def _adult(c: Case) -> bool:
    return c.age is not None and 18 <= c.age <= 120


def _two_dx(c: Case) -> bool:
    return c.n_dx >= 2


def _several_days(c: Case) -> bool:
    return c.dscg.date() > c.adm.date()


def _dx_rows(t: Tables, c: Case) -> np.ndarray:
    rows = t.rows("diseinfo", "setl_id", c.setl_id)
    return rows[np.argsort([t.get("diseinfo", "diag_srt_no", r) for r in rows])]


def _principal_row(t: Tables, c: Case) -> int:
    return int(_dx_rows(t, c)[0])


def _main_oprn_row(t: Tables, c: Case) -> int:
    rows = t.rows("oprninfo", "setl_id", c.setl_id)
    return int(next(r for r in rows if t.get("oprninfo", "main_oprn_flag", r) == "1"))


def _blank(table: str, col: str) -> KindFn:
    def fn(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
        t.set(table, col, c.row, None)
        return []

    return fn


def _unknown_code(code: str, known: dict[str, str]) -> str:
    """A hospital-made extension of ``code`` that the 医保版 2.0 dictionary does not hold."""
    base = re.sub(r"x\d{3}$", "", code.split("+")[0])
    for ext in range(999, 900, -1):
        candidate = f"{base}x{ext}"
        if candidate not in known:
            return candidate
    raise ValueError(f"no unknown extension for {code}")


@cache
def _asterisk_codes() -> tuple[tuple[str, str], ...]:
    """Bare manifestation codes (the ``*`` half of a dagger pair) and the pair's name."""
    d = diagnoses()
    out: dict[str, str] = {}
    for code, name in sorted(d.items()):
        if "+" in code:
            star = code.split("+")[1]
            if star.endswith("*") and star not in d:
                out.setdefault(star, name)
    return tuple(sorted(out.items()))


for _name, _table, _col in (
    ("blank_hi_no", "setl_list", "hi_no"),
    ("blank_chfpdr_code", "setl_list", "chfpdr_code"),
    ("blank_bill_no", "setl_list", "bill_no"),
    ("blank_psn_name", "setl_list", "psn_name"),
    ("blank_brdy", "setl_list", "brdy"),
    ("blank_adm_caty", "setl_list", "adm_caty"),
):
    kind(_name)(_blank(_table, _col))


# ----------------------------------------------------------------------------- completeness


@kind("blank_diag_name")
def blank_diag_name(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("diseinfo", "diag_name", int(_dx_rows(t, c)[-1]), None)
    return []


@kind("blank_adm_cond")
def blank_adm_cond(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("diseinfo", "adm_cond_type", int(_dx_rows(t, c)[-1]), None)
    return []


@kind("blank_oper_dr_code", needs=lambda c: c.has_oprn)
def blank_oper_dr_code(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("oprninfo", "oper_dr_code", _main_oprn_row(t, c), None)
    return []


@kind("transfer_without_receiver", needs=lambda c: c.dscg_way == "2" and c.has_receiver)
def transfer_without_receiver(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "acp_medins_name", c.row, None)
    return []


@kind("plan_without_purpose", needs=lambda c: c.flag31 == "2")
def plan_without_purpose(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "days_rinp_pup_31", c.row, None)
    return []


# ----------------------------------------------------------------------------- validity


@kind("invalid_ntly")
def invalid_ntly(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "ntly", c.row, "ZZZ")
    return []


@kind("invalid_dscg_caty")
def invalid_dscg_caty(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "dscg_caty", c.row, "Z99")
    return []


@kind("unknown_secondary_diag", needs=_two_dx)
def unknown_secondary_diag(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    r = int(_dx_rows(t, c)[-1])
    t.set("diseinfo", "diag_code", r, _unknown_code(t.get("diseinfo", "diag_code", r), diagnoses()))
    return []


@kind("unknown_procedure", needs=lambda c: c.has_oprn)
def unknown_procedure(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    r = _main_oprn_row(t, c)
    code = _unknown_code(t.get("oprninfo", "oprn_oprt_code", r), procedures())
    t.set("oprninfo", "oprn_oprt_code", r, code)
    return [Report("QC-K003", "oprn_oprt_code", front_page=True)]


@kind("diag_name_mismatch")
def diag_name_mismatch(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    r = int(_dx_rows(t, c)[-1])
    t.set("diseinfo", "diag_name", r, f"{t.get('diseinfo', 'diag_name', r)}（待查）")
    return []


@kind("certno_format")
def certno_format(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "certno", c.row, str(t.get("setl_list", "certno", c.row))[:15])
    return []


@kind("negative_coma")
def negative_coma(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "pwcry_bfadm_coma_dura", c.row, -30.0)
    return []


# ----------------------------------------------------------------------------- principal diagnosis


def _set_principal(t: Tables, c: Case, code: str, name: str) -> None:
    r = _principal_row(t, c)
    t.set("diseinfo", "diag_code", r, code)
    t.set("diseinfo", "diag_name", r, name)


@kind("asterisk_principal")
def asterisk_principal(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    # Not a sex-limited one (N51.8* on a woman would be a second defect).
    codes = [(k, v) for k, v in _asterisk_codes() if required_sex(k, "diag") in (None, c.gend)]
    code, name = codes[int(rng.integers(len(codes)))]
    _set_principal(t, c, code, name)
    return []


@kind("external_cause_principal")
def external_cause_principal(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    _set_principal(t, c, "W19.x00", diagnoses()["W19.x00"])
    return []


@kind("sequela_principal")
def sequela_principal(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    _set_principal(t, c, "T90.000", diagnoses()["T90.000"])
    return []


@kind("no_principal")
def no_principal(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("diseinfo", "maindiag_flag", _principal_row(t, c), "0")
    return []


@kind("multiple_principal", needs=_two_dx)
def multiple_principal(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    rows = _dx_rows(t, c)
    t.set("diseinfo", "maindiag_flag", int(rows[-1]), "1")
    # The front-page comparison reads the smallest flagged code as the list's principal.
    first = t.get("diseinfo", "diag_code", int(rows[0]))
    if t.get("diseinfo", "diag_code", int(rows[-1])) < first:
        return [Report("QC-K002", "diag_code", front_page=True)]
    return []


@kind("sex_specific_diag", needs=lambda c: c.gend in ("1", "2"))
def sex_specific_diag(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    # A female-only code on a man, a male-only one on a woman.
    code = "N95.100" if c.gend == "1" else "N40.x00"
    rows = _dx_rows(t, c)
    t.append(
        "diseinfo",
        {
            "setl_id": c.setl_id,
            "diag_srt_no": int(t.get("diseinfo", "diag_srt_no", int(rows[-1]))) + 1,
            "diag_code": code,
            "diag_name": diagnoses()[code],
            "maindiag_flag": "0",
            "diag_type": "1",
            "adm_cond_type": "3",
        },
    )
    return []


@kind("diag_count_mismatch")
def diag_count_mismatch(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "diag_code_cnt", c.row, c.n_dx + 1)
    return []


# ----------------------------------------------------------------------------- times and days


@kind("setl_period_reversed", needs=_several_days)
def setl_period_reversed(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "setl_begn_date", c.row, c.dscg.date())
    t.set("setl_list", "setl_end_date", c.row, c.adm.date())
    return []


@kind("setl_period_outside_stay")
def setl_period_outside_stay(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "setl_end_date", c.row, c.dscg.date() + dt.timedelta(days=3))
    return []


@kind("oprn_time_outside_stay", needs=lambda c: c.has_oprn)
def oprn_time_outside_stay(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    r = _main_oprn_row(t, c)
    shift = dt.timedelta(days=(c.dscg.date() - c.adm.date()).days + 2)
    for col in ("oprn_oprt_begntime", "oprn_oprt_endtime"):
        t.set("oprninfo", col, r, t.get("oprninfo", col, r) - shift)
    return []


@kind("oprn_date_outside_stay", needs=lambda c: c.has_oprn)
def oprn_date_outside_stay(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("oprninfo", "oprn_oprt_date", _main_oprn_row(t, c), c.dscg.date() + dt.timedelta(days=2))
    return []


@kind("anst_time_outside_stay", needs=lambda c: c.has_oprn)
def anst_time_outside_stay(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    r = _main_oprn_row(t, c)
    if t.get("oprninfo", "anst_begntime", r) is None:
        t.set("oprninfo", "anst_endtime", r, t.get("oprninfo", "oprn_oprt_endtime", r))
    t.set("oprninfo", "anst_begntime", r, c.adm - dt.timedelta(days=1))
    return []


@kind("fee_time_outside_stay")
def fee_time_outside_stay(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    rows = t.rows("feedetail", "setl_id", c.setl_id)
    r = int(rows[int(rng.integers(len(rows)))])
    t.set("feedetail", "fee_ocur_time", r, c.adm - dt.timedelta(days=2))
    return []


@kind("act_days_mismatch")
def act_days_mismatch(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "act_ipt_days", c.row, t.get("setl_list", "act_ipt_days", c.row) + 2)
    return []


@kind("nursing_days_exceed")
def nursing_days_exceed(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    los = max((c.dscg.date() - c.adm.date()).days, 1)
    t.set("setl_list", "spga_nurscare_days", c.row, los + 2)
    return []


@kind("vent_exceeds_stay")
def vent_exceeds_stay(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    hours = (c.dscg - c.adm).total_seconds() / 3600
    t.set("setl_list", "vent_used_dura", c.row, round(hours + 48, 1))
    return []


# ----------------------------------------------------------------------------- person


@kind("age_mismatch", needs=_adult)
def age_mismatch(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "age", c.row, c.age + 2)
    return []


@kind("nwb_age_on_adult", needs=_adult)
def nwb_age_on_adult(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    # Over 28 days, so no newborn weights become required on top.
    t.set("setl_list", "nwb_age_days", c.row, 100)
    return []


@kind("nwb_weight_on_adult", needs=_adult)
def nwb_weight_on_adult(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    t.set("setl_list", "nwb_bir_wt", c.row, 3200)
    return []


# ----------------------------------------------------------------------------- amounts


def _add_money(t: Tables, c: Case, col: str, yuan: int) -> None:
    t.set("setl_list", col, c.row, t.get("setl_list", col, c.row) + Decimal(yuan))


@kind("fee_total_mismatch")
def fee_total_mismatch(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    # Total and cash payment raised together: the payment split still adds up.
    _add_money(t, c, "medfee_sumamt", 100)
    _add_money(t, c, "psn_cashpay", 100)
    return []


@kind("payment_split_mismatch")
def payment_split_mismatch(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    _add_money(t, c, "psn_cashpay", 50)
    return []


@kind("hifp_exceeds_fund")
def hifp_exceeds_fund(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    fund = t.get("setl_list", "fund_pay_sumamt", c.row)
    t.set("setl_list", "hifp_pay", c.row, fund + Decimal(100))
    return []


@kind("line_amount_mismatch")
def line_amount_mismatch(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    rows = t.rows("feedetail", "setl_id", c.setl_id)
    r = int(max(rows, key=lambda k: t.get("feedetail", "det_item_fee_sumamt", k)))
    price = t.get("feedetail", "pric", r)
    t.set("feedetail", "pric", r, (price * Decimal("1.1")).quantize(Decimal("0.0001")))
    return []


# ----------------------------------------------------------------------------- front page


def _fp_rows(t: Tables, c: Case, rec_type: str) -> list[int]:
    rows = t.rows("medrcd", "medcasno", c.medcasno)
    return [int(r) for r in rows if t.get("medrcd", "rec_type", r) == rec_type]


def _fp_second_dx(t: Tables, c: Case) -> tuple[int, int] | None:
    rows = {t.get("medrcd", "srt_no", r): r for r in _fp_rows(t, c, "diag")}
    return (rows[1], rows[2]) if 1 in rows and 2 in rows else None


@kind("fp_principal_diff", needs=lambda c: c.has_fp and _two_dx(c))
def fp_principal_diff(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    pair = _fp_second_dx(t, c)
    if pair is None:  # the front page left the second diagnosis off: use another code
        r = next(r for r in _fp_rows(t, c, "diag") if t.get("medrcd", "main_flag", r) == "1")
        code = t.get("medrcd", "code", r)
        t.set("medrcd", "code", r, "J18.900" if code != "J18.900" else "I10.x00")
        return [Report("QC-K006", "diag_code", front_page=True)]
    first, second = pair
    t.set("medrcd", "main_flag", first, "0")
    t.set("medrcd", "main_flag", second, "1")
    return []


@kind("fp_principal_oprn_diff", needs=lambda c: c.has_fp and c.has_oprn)
def fp_principal_oprn_diff(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    r = _fp_rows(t, c, "oprn")[0]
    code = t.get("medrcd", "code", r)
    t.set("medrcd", "code", r, "47.0900" if code != "47.0900" else "51.2300")
    return []


@kind("fp_dscg_way_diff", needs=lambda c: c.has_fp and c.dscg_way != "4")
def fp_dscg_way_diff(t: Tables, c: Case, rng: np.random.Generator) -> list[Report]:
    for r in t.rows("medrcd", "medcasno", c.medcasno):
        t.set("medrcd", "dscg_way", int(r), "4")
    return []
