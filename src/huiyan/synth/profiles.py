"""Clinical profiles derived from the CHS-DRG 1.1 scheme so that cases group where intended.

A medical profile takes its principal diagnosis from an ADRG whose only condition is
``principal_dx_in`` (and from its MDC's entry list, in no other MDC's list, not claimed by
an earlier step of the MDC); a surgical profile takes its principal procedure from an ADRG
whose only condition is ``principal_proc_in`` (not in an earlier step's list nor in MDCA).
Per-MDC parameters (sex, age, LOS, daily cost, departments, how many profiles) are in
``data/mdc.yaml``; secondary diagnoses and their supporting treatment in
``data/comorbidities.yaml``. Selection is seeded by the scheme codes, not the run seed, so
every region shares the same profile catalogue.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from huiyan.kb.dictionaries import NATIONAL_SCHEME, diagnoses, procedures
from huiyan.kb.sex_limits import required_sex
from huiyan.kb.tablefiles import open_csv_text
from huiyan.synth.merged import Knowledge, static_tables

# Words in a diagnosis name that tie it to newborns or children: not used for adult profiles.
_PAEDIATRIC = ("新生儿", "儿童", "小儿", "婴", "胎儿", "先天", "幼年", "早产")
# Procedure prefixes whose incision is clean (class I): prophylaxis limited to 24 h.
CLEAN_INCISION_PREFIXES = ("06.", "53.", "81.5", "85.2", "85.4")
_CLEAN_MDCS = ("MDCI", "MDCJ", "MDCK")


@dataclass(frozen=True)
class Profile:
    """One kind of admission: what is coded, who has it, how long and how costly it is."""

    pid: int
    mdc: str
    adrg: str
    kind: str  # medical / surgical / chemo
    pdx: str
    oprn: str | None
    sex: str | None  # "1", "2" or None (either)
    age: tuple[int, int]
    los: float  # median at a level-3 hospital
    daily_cost: float
    dept: str
    complexity: int
    has_mcc_split: bool  # the ADRG has a DRG for cases with MCC
    comorbidities: tuple[int, ...]  # indices into comorbidities()
    clean_incision: bool = False
    outpatient_treatable: bool = False


def _scheme_file(name: str) -> Any:
    return resources.files("huiyan.kb").joinpath(f"data/drg/{NATIONAL_SCHEME}/{name}")


@cache
def scheme() -> dict[str, Any]:
    return json.loads(_scheme_file("scheme.json").read_text("utf-8"))


@cache
def _tsv(name: str) -> dict[str, str]:
    with _scheme_file(name).open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)
        return {r[0]: r[1] for r in rows}


def mcc() -> dict[str, str]:
    return _tsv("mcc.tsv")


def cc() -> dict[str, str]:
    return _tsv("cc.tsv")


def cc_exclusion() -> dict[str, str]:
    return _tsv("cc_exclusion.tsv")


def excluded(principal: str, secondary: str) -> bool:
    """Whether ``secondary`` does not count as MCC/CC for ``principal`` (README rule)."""
    table = cc_exclusion().get(principal)
    if table is None:
        return False
    return table in (mcc().get(secondary), cc().get(secondary))


def _data(name: str) -> Any:
    return yaml.safe_load(resources.files(__package__).joinpath(f"data/{name}").read_text("utf-8"))


@cache
def comorbidities() -> tuple[dict[str, Any], ...]:
    return tuple(_data("comorbidities.yaml"))


@cache
def outpatient_treatable_prefixes() -> tuple[str, ...]:
    path = resources.files(__package__).joinpath("data/knowledge/outpatient_treatable.csv")
    with open_csv_text(path) as fh:
        return tuple(r["diag_prefix"] for r in csv.DictReader(fh))


def _usable_dx(code: str, name: str, mdc: str) -> bool:
    if "*" in code or "+" in code or code.startswith(("P", "Z3", "V", "W", "X", "Y")):
        return False
    return mdc == "MDCO" or not any(w in name for w in _PAEDIATRIC)


def _fits(know: Knowledge, code: str, p: dict[str, Any]) -> bool:
    """Whether ``code`` may be principal for the MDC's patients (merged ``diag_restriction``)."""
    sex, lo, hi = know.sex_age(code)
    mdc_sex = {"M": "1", "F": "2"}.get(p["sex"])
    if sex and mdc_sex and sex != mdc_sex:
        return False
    return know.principal_allowed(code) and max(lo, p["age"][0]) < min(hi, p["age"][1] + 1)


def _who(know: Knowledge, code: str, sex: str | None, p: dict[str, Any]) -> tuple:
    """(sex, age range) of a profile: the MDC's, narrowed by the code's restrictions."""
    need, lo, hi = know.sex_age(code)
    return need or sex, (max(int(lo), p["age"][0]), min(int(hi) - 1, p["age"][1]))


def _has_mcc_split(step: dict[str, Any]) -> bool:
    return any(d["condition"] == {"has_mcc": True} for d in step["drgs"]) and len(step["drgs"]) > 1


@cache
def profiles() -> tuple[Profile, ...]:
    """The profile catalogue (a few hundred), deterministic."""
    sch = scheme()
    lists = sch["lists"]
    params = _data("mdc.yaml")
    dx_names, px_names = diagnoses(), procedures()
    pdx_owner: dict[str, int] = {}
    for m in sch["mdcs"]:
        key = m["entry"].get("principal_dx_in") or next(
            (c["principal_dx_in"] for c in m["entry"].get("all", []) if "principal_dx_in" in c),
            None,
        )
        for code in lists.get(key, []) if key else []:
            pdx_owner[code] = pdx_owner.get(code, 0) + 1
    mdca_procs = {c for k, v in lists.items() if k.startswith("A") for c in v}
    treatable = outpatient_treatable_prefixes()
    know = Knowledge.merge(static_tables())
    out: list[Profile] = []
    for m in sch["mdcs"]:
        p = params.get(m["code"])
        if p is None:
            continue
        rng = random.Random(m["code"])
        pdx_key = m["code"] + ".pdx"
        mdc_pdx = [
            c
            for c in lists[pdx_key]
            if pdx_owner.get(c) == 1
            and c in dx_names
            and _usable_dx(c, dx_names[c], m["code"])
            and _fits(know, c, p)
        ]
        mdc_pdx_set = set(mdc_pdx)
        seen_dx: set[str] = set()
        seen_px: set[str] = set(mdca_procs)
        medical, surgical = [], []
        for step in m["steps"]:
            cond = step["condition"]
            if list(cond) == ["principal_dx_in"]:
                cands = sorted(set(lists[cond["principal_dx_in"]]) & mdc_pdx_set - seen_dx)
                seen_dx.update(lists[cond["principal_dx_in"]])
                if cands:
                    medical.append((step, cands))
            elif list(cond) == ["principal_proc_in"]:
                cands = sorted(
                    c
                    for c in set(lists.get(cond["principal_proc_in"], [])) - seen_px
                    if c in px_names
                )
                seen_px.update(lists.get(cond["principal_proc_in"], []))
                if cands:
                    surgical.append((step, cands))
            else:
                for v in _list_refs(cond):
                    (seen_px if v.endswith("proc") or v == "or_procedures" else seen_dx).update(
                        lists.get(v, [])
                    )
        sex = {"M": "1", "F": "2"}.get(p["sex"])
        cm_pool = tuple(
            i for i, c in enumerate(comorbidities()) if "all" in c["mdcs"] or m["code"] in c["mdcs"]
        )
        for kind, chosen, count in (
            ("medical", medical, p["medical"]),
            ("surgical", surgical, p["surgical"]),
        ):
            if not chosen or not count:
                continue
            for k in range(count):
                step, cands = chosen[k % len(chosen)]
                if kind == "medical":
                    pdx, oprn = rng.choice(cands), None
                else:
                    pdx, oprn = rng.choice(mdc_pdx), rng.choice(cands)
                cms = tuple(
                    i
                    for i in cm_pool
                    if not excluded(pdx, comorbidities()[i]["code"])
                    and not pdx.startswith(comorbidities()[i]["code"][:3])
                    and not know.exclusive(pdx, comorbidities()[i]["code"])
                )
                who = _who(know, pdx, sex, p)
                out.append(
                    Profile(
                        pid=len(out),
                        mdc=m["code"],
                        adrg=step["code"],
                        kind=kind,
                        pdx=pdx,
                        oprn=oprn,
                        # A sex-limited procedure (e.g. 70.32 on the cul-de-sac) limits the sex.
                        sex=who[0] or required_sex(oprn),
                        age=who[1],
                        los=float(p["los"][0 if kind == "medical" else 1]),
                        daily_cost=float(p["daily_cost"][0 if kind == "medical" else 1]),
                        dept=p["dept"][0 if kind == "medical" else 1],
                        complexity=1 + (k % 3 if kind == "surgical" else k % 2),
                        has_mcc_split=_has_mcc_split(step),
                        comorbidities=cms,
                        clean_incision=bool(
                            oprn
                            and (
                                oprn.startswith(CLEAN_INCISION_PREFIXES)
                                or m["code"] in _CLEAN_MDCS
                                or (know.incision(oprn) or ("",))[0] == "I"
                            )
                        ),
                        outpatient_treatable=pdx.startswith(treatable),
                    )
                )
        # The outpatient-treatable conditions get a medical profile of their own where the MDC
        # has one, so that low-standard admissions have legitimate peers in the same group.
        for step, cands in medical:
            for prefix in treatable:
                hit = next((c for c in cands if c.startswith(prefix)), None)
                if hit and not any(q.pdx == hit for q in out):
                    cms = tuple(
                        i
                        for i in cm_pool
                        if not hit.startswith(comorbidities()[i]["code"][:3])
                        and not know.exclusive(hit, comorbidities()[i]["code"])
                    )
                    who = _who(know, hit, sex, p)
                    out.append(
                        Profile(
                            len(out),
                            m["code"],
                            step["code"],
                            "medical",
                            hit,
                            None,
                            who[0],
                            who[1],
                            float(p["los"][0]),
                            float(p["daily_cost"][0]),
                            p["dept"][0],
                            1,
                            _has_mcc_split(step),
                            cms,
                            outpatient_treatable=True,
                        )
                    )
    out.append(_chemo_profile(len(out), lists, params["MDCR"]))
    return tuple(out)


def _list_refs(cond: Any) -> list[str]:
    if isinstance(cond, dict):
        refs = []
        for k, v in cond.items():
            if isinstance(v, str) and k.endswith("_in"):
                refs.append(v)
            else:
                refs.extend(_list_refs(v))
        return refs
    if isinstance(cond, list):
        return [r for c in cond for r in _list_refs(c)]
    return []


def _chemo_profile(pid: int, lists: dict[str, list[str]], p: dict[str, Any]) -> Profile:
    # Planned chemotherapy cycles: principal Z51.103 (维持性化疗) with the RE1 procedure.
    procs = sorted(lists["RE1.proc"])
    proc = next((c for c in procs if c.startswith("99.25")), procs[0])
    return Profile(
        pid,
        "MDCR",
        "RE1",
        "chemo",
        "Z51.103",
        proc,
        None,
        (40, 75),
        4.0,
        1800.0,
        p["dept"][0],
        2,
        False,
        (),
    )


def chemo_secondary() -> str:
    """The malignancy coded with chemotherapy cycles."""
    return "C34.900"
