"""Hospitals of the synthetic region and the cases (stays) admitted to them, as numpy arrays.

Cases are generated month by month: a batch is a dict of equal-length arrays (one element
per settlement). Follow-up stays (transfers, chemotherapy cycles, planted readmissions) are
derived from earlier stays of the same batch, so a person's history never spans batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from huiyan.synth.profiles import comorbidities, profiles

DAY = 86_400
EPOCH_DAY0 = np.datetime64("1970-01-01")


@cache
def region_params() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data/region.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class Hospitals:
    code: np.ndarray
    name: np.ndarray
    level: np.ndarray  # int 1..3
    kind: np.ndarray
    weight: np.ndarray  # share of the region's cases


def make_hospitals(n: int, rng: np.random.Generator) -> Hospitals:
    """``n`` hospitals: levels by the configured shares, sizes that fit their level."""
    p = region_params()
    levels = sorted(p["levels"], reverse=True)
    counts = [max(1, round(n * p["levels"][lv]["hospitals"])) for lv in levels]
    counts[-1] = max(1, n - sum(counts[:-1]))
    level = np.repeat([int(lv) for lv in levels], counts)[:n]
    weight = np.zeros(len(level))
    for lv in levels:
        m = level == int(lv)
        size = rng.lognormal(0.0, 0.35, m.sum())
        weight[m] = p["levels"][lv]["cases"] * size / size.sum()
    weight /= weight.sum()
    admdvs = p["admdvs"]
    names = {3: "市第{}人民医院", 2: "区第{}人民医院", 1: "第{}社区卫生服务中心"}
    cn = "一二三四五六七八九十"
    kinds = np.where(
        level == 1, "primary", np.where(np.arange(len(level)) % 5 == 4, "tcm", "general")
    )
    name = [
        ("慧眼" + names[int(lv)].format(cn[i % 10] + ("" if i < 10 else str(i // 10)))).replace(
            "人民医院", "中医医院" if k == "tcm" else "人民医院"
        )
        for i, (lv, k) in enumerate(zip(level, kinds, strict=True))
    ]
    code = np.array([f"H{admdvs}{i + 1:05d}" for i in range(len(level))], dtype=object)
    return Hospitals(code, np.array(name, dtype=object), level, kinds, weight)


@cache
def profile_arrays() -> dict[str, np.ndarray]:
    ps = profiles()
    return {
        "complexity": np.array([p.complexity for p in ps]),
        "surgical": np.array([p.kind == "surgical" for p in ps]),
        "chemo": np.array([p.kind == "chemo" for p in ps]),
        "sex": np.array([int(p.sex or 0) for p in ps]),
        "age_lo": np.array([p.age[0] for p in ps]),
        "age_hi": np.array([p.age[1] for p in ps]),
        "los": np.array([p.los for p in ps]),
        "daily": np.array([p.daily_cost for p in ps]),
        "cancer": np.array([p.pdx.startswith("C") for p in ps]),
    }


def comorbidity_matrix(prof: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which comorbidities each case has (bool, cases × comorbidities)."""
    cms = comorbidities()
    ps = profiles()
    allowed = np.zeros((len(ps), len(cms)), dtype=bool)
    for p in ps:
        allowed[p.pid, list(p.comorbidities)] = True
    prob = np.array(
        [0.06 if c["role"] == "mcc" else 0.12 if c["role"] == "cc" else 0.2 for c in cms]
    )
    draw = rng.random((len(prof), len(cms))) < prob
    return draw & allowed[prof]


def make_cases(
    n: int, month: int, year: int, hosp: Hospitals, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``n`` independent stays admitted in ``month`` (1-based) of ``year``."""
    p = region_params()
    pa_ = profile_arrays()
    h = rng.choice(len(hosp.level), size=n, p=hosp.weight)
    lv = hosp.level[h]
    prof = np.empty(n, dtype=np.int64)
    non_chemo = np.flatnonzero(~pa_["chemo"])
    for level in (1, 2, 3):
        m = lv == level
        ok = non_chemo[pa_["complexity"][non_chemo] <= p["levels"][str(level)]["complexity"]]
        if level == 1:
            ok = ok[~pa_["surgical"][ok] | (pa_["complexity"][ok] == 1)]
        prof[m] = rng.choice(ok, size=m.sum())
    sex = pa_["sex"][prof].copy()
    free = sex == 0
    sex[free] = rng.integers(1, 3, free.sum())
    age = rng.integers(pa_["age_lo"][prof], pa_["age_hi"][prof] + 1)
    start = (np.datetime64(f"{year}-{month:02d}-01") - EPOCH_DAY0).astype(int)
    end = (np.datetime64(f"{year + month // 12}-{month % 12 + 1:02d}-01") - EPOCH_DAY0).astype(int)
    adm_day = rng.integers(start, end, n)
    los_factor = np.array([0, *(p["levels"][str(k)]["los"] for k in (1, 2, 3))])[lv]
    los = np.rint(rng.lognormal(np.log(pa_["los"][prof] * los_factor), 0.35)).astype(np.int64)
    los = np.clip(los, np.where(pa_["surgical"][prof], 3, 2), 60)
    dscg_way = np.ones(n, dtype=np.int64)
    u = rng.random(n)
    legit = p["legit"]
    death = u < legit["death"]
    aa = (u >= legit["death"]) & (u < legit["death"] + legit["against_advice"])
    dscg_way[death] = 5
    dscg_way[aa] = 4
    los[aa] = np.maximum(1, los[aa] // 3)
    insutype = np.where(rng.random(n) < p["insutype"]["310"], 310, 390)
    return {
        "hosp": h,
        "prof": prof,
        "sex": sex,
        "age": age,
        "birth_day": birth_days(adm_day, age, rng.integers(1, 365, n)),
        "adm_s": adm_day * DAY + rng.integers(8 * 3600, 20 * 3600, n),
        "los": los,
        "dscg_hour": rng.integers(9 * 3600, 12 * 3600, n),
        "dscg_way": dscg_way,
        "adm_way": np.where(rng.random(n) < 0.35, 1, 2),
        "flag31": np.ones(n, dtype=np.int64),
        "insutype": insutype,
        "nurse": np.where(
            pa_["surgical"][prof] | death, 1, rng.choice([1, 2, 3], n, p=[0.3, 0.6, 0.1])
        ),
        "cm": comorbidity_matrix(prof, rng),
        "person": np.arange(n, dtype=np.int64),
        "origin": np.full(n, -1, dtype=np.int64),  # the stay this one follows (-1 none)
    }


def derive(cases: dict[str, np.ndarray], idx: np.ndarray, **changes: Any) -> dict[str, np.ndarray]:
    """New stays copied from ``cases[idx]`` with some fields changed."""
    out = {k: v[idx].copy() for k, v in cases.items()}
    for k, v in changes.items():
        out[k] = (
            np.broadcast_to(np.asarray(v), out[k].shape[:1]).copy()
            if np.ndim(v) == 0
            else np.asarray(v)
        )
    if "adm_s" in changes and "age" not in changes:
        # The age on the list is the full years on the new admission day (a birthday may fall
        # during the stay the new one is derived from).
        out["age"] = full_years(out["birth_day"], out["adm_s"] // DAY)
    out["origin"] = idx.astype(np.int64)
    return out


def concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]]) for k in a}


def dscg_s(cases: dict[str, np.ndarray]) -> np.ndarray:
    """Discharge timestamp: admission date + LOS days at the discharge hour."""
    return (cases["adm_s"] // DAY + cases["los"]) * DAY + cases["dscg_hour"]


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days).astype("datetime64[D]")
    year, month = d.astype("datetime64[Y]"), d.astype("datetime64[M]")
    month_of_year = (month - year.astype("datetime64[M]")).astype(np.int64)
    return (
        year.astype(np.int64),
        month_of_year,
        (d - month.astype("datetime64[D]")).astype(np.int64),
    )


def full_years(birth_day: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years of age on ``day`` for people born on ``birth_day`` (days since 1970)."""
    by, bm, bd = _ymd(birth_day)
    y, m, d = _ymd(day)
    return y - by - ((m < bm) | ((m == bm) & (d < bd))).astype(np.int64)


def birth_days(adm_day: np.ndarray, age: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Birth dates (days since 1970) giving exactly ``age`` full years on the admission day.

    The birthday is ``before`` (1–364) days before the ``age``-th anniversary that falls on or
    before admission, so QC's age-vs-birth-date check holds across leap years.
    """
    d = adm_day.astype("datetime64[D]")
    year = d.astype("datetime64[Y]")
    month = d.astype("datetime64[M]")
    month_of_year = (month - year.astype("datetime64[M]")).astype(np.int64)
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    anniversary_month = (year.astype(np.int64) - age).astype("datetime64[Y]").astype(
        "datetime64[M]"
    ) + month_of_year
    month_len = (
        (anniversary_month + 1).astype("datetime64[D]") - anniversary_month.astype("datetime64[D]")
    ).astype(np.int64)
    anniversary = anniversary_month.astype("datetime64[D]") + np.minimum(
        day_of_month, month_len - 1
    )
    return (anniversary - before).astype(np.int64)
