"""``generate``: a region-year of canonical tables, month by month, plus labels beside it."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from huiyan.errors import InputError
from huiyan.model.tables import DISEINFO, FEEDETAIL, MEDINS, MEDRCD, OPRNINFO, SETL_LIST
from huiyan.synth import defects, knowledge
from huiyan.synth.catalog import Catalog
from huiyan.synth.fees import clean_lines
from huiyan.synth.output import (
    TableWriter,
    strings,
)
from huiyan.synth.plant import plan_cases, plant_lines, quota
from huiyan.synth.profiles import profiles
from huiyan.synth.region import (
    DAY,
    Hospitals,
    birth_days,
    concat,
    derive,
    dscg_s,
    make_cases,
    make_hospitals,
    region_params,
)
from huiyan.synth.world import world

LABEL_COLUMNS = ("setl_id", "vola_bhvr_type", "mechanism", "detail", "amount")


@dataclass
class SynthReport:
    """What was written: row counts per table, labels per class, the folders."""

    out_dir: Path
    labels_path: Path
    rows: dict[str, int] = field(default_factory=dict)
    labels_by_class: dict[str, int] = field(default_factory=dict)
    defects_path: Path | None = None  # qc_defects.csv, written only when defect_rate > 0
    defects: int = 0


def generate(
    out_dir: str | Path,
    *,
    cases: int,
    seed: int,
    hospitals: int | None = None,
    months: int = 12,
    violation_rate: float = 0.05,
    fmt: str = "csv",
    labels_dir: str | Path | None = None,
    with_medrcd: bool = True,
    defect_rate: float = 0.0,
) -> SynthReport:
    """Write a synthetic region-year to ``out_dir`` and its labels to ``labels_dir``.

    ``defect_rate`` > 0 also plants settlement-list data defects (``synth.defects``) on that
    share of the cases without a violation label, labelled in ``qc_defects.csv``.
    """
    if fmt not in ("csv", "parquet"):
        raise InputError(f"未知的输出格式 {fmt!r}（可选 csv / parquet）")
    if cases < 1 or not 1 <= months <= 12 or not 0 <= violation_rate <= 0.5:
        raise InputError("参数无效：cases ≥ 1，months 1–12，violation_rate 0–0.5")
    if not 0 <= defect_rate <= 0.5:
        raise InputError("参数无效：defect_rate 0–0.5")
    out = Path(out_dir)
    labels_folder = Path(labels_dir) if labels_dir else out.parent / "labels"
    if labels_folder.resolve() == out.resolve() or out.resolve() in labels_folder.resolve().parents:
        raise InputError("标签目录不能位于数据集目录之内")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    labels_folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    hosp = make_hospitals(hospitals or int(np.clip(cases // 1500, 6, 80)), rng)
    wld = world()
    cat, surgery_item = wld.cat, wld.surgery_item
    fmt_ext = fmt
    writers = {
        t.name: TableWriter(out, t, fmt_ext)
        for t in (SETL_LIST, DISEINFO, OPRNINFO, FEEDETAIL) + ((MEDRCD,) if with_medrcd else ())
    }
    report = SynthReport(out, labels_folder / "labels.csv")
    label_rows: list[tuple[str, ...]] = []
    planter = defects.Planter(defect_rate, seed) if defect_rate > 0 else None
    defect_rows: list[tuple[str, ...]] = []
    year = int(region_params()["year"])
    per_month = np.full(months, cases // months)
    per_month[: cases % months] += 1
    offset = 0
    for m in range(months):
        batch = _month(
            int(per_month[m]),
            m + 1,
            year,
            hosp,
            cat,
            surgery_item,
            violation_rate,
            rng,
            offset,
            with_medrcd,
        )
        if planter is not None:
            involved = {r[0] for r in batch["labels"]} | {r[3] for r in batch["labels"]}
            defect_rows += planter.plant(batch["tables"], involved)
        for name, cols in batch["tables"].items():
            writers[name].write(cols)
        label_rows += batch["labels"]
        offset += batch["n"]
    for w in writers.values():
        w.close()
        report.rows[w.table.name] = w.rows
    medins = _medins(hosp)
    _write_one(out, MEDINS, medins, fmt)
    _write_one(out, _hilist_table(), None, fmt, arrow=cat.hilist())
    report.rows["medins"] = len(hosp.code)
    report.rows["hilist"] = len(cat.rows)
    knowledge.write(out / "knowledge", wld.dataset_tables)
    with report.labels_path.open("w", encoding="utf-8", newline="") as fh:
        rows_out = csv.writer(fh)
        rows_out.writerow(LABEL_COLUMNS)
        rows_out.writerows(label_rows)
    for r in label_rows:
        report.labels_by_class[r[1]] = report.labels_by_class.get(r[1], 0) + 1
    if planter is not None:
        report.defects_path = labels_folder / "qc_defects.csv"
        report.defects = len({(r[0], r[1]) for r in defect_rows})
        with report.defects_path.open("w", encoding="utf-8", newline="") as fh:
            rows_out = csv.writer(fh)
            rows_out.writerow(defects.DEFECT_COLUMNS)
            rows_out.writerows(defect_rows)
    return report


def _hilist_table():
    from huiyan.model.tables import HILIST

    return HILIST


def _write_one(out: Path, table, cols, fmt: str, arrow: pa.Table | None = None) -> None:
    w = TableWriter(out, table, fmt)
    if arrow is not None:
        cols = {n: arrow.column(n).combine_chunks() for n in arrow.column_names}
    w.write(cols)
    w.close()


def _medins(h: Hospitals) -> dict[str, pa.Array]:
    return {
        "medins_code": strings(list(h.code)),
        "medins_name": strings(list(h.name)),
        "medins_lv": strings([str(x) for x in h.level]),
        "medins_type": strings(list(h.kind)),
        "admdvs": strings([region_params()["admdvs"]] * len(h.code)),
    }


def _legit_follow_ups(c, hosp: Hospitals, rng) -> dict:
    """Same-day transfers to a level-3 hospital and chemotherapy cycles (not violations)."""
    n = len(c["los"])
    legit = region_params()["legit"]
    t = np.flatnonzero((c["dscg_way"] == 1) & (rng.random(n) < legit["transfer"]))
    c["dscg_way"][t] = 2
    top = np.flatnonzero(hosp.level == 3)
    dest = rng.choice(top, len(t))
    dest = np.where(dest == c["hosp"][t], top[(np.searchsorted(top, dest) + 1) % len(top)], dest)
    moved = derive(
        c,
        t,
        hosp=dest,
        adm_way=3,
        adm_s=dscg_s(c)[t] + 2 * 3600,
        los=np.maximum(2, c["los"][t]),
        dscg_way=1,
    )
    moved["dscg_way"][moved["hosp"] == c["hosp"][t]] = 1
    c = concat(c, moved)
    k = int(np.ceil(n * legit["chemo_patients"]))
    chemo_pid = next(p.pid for p in profiles() if p.kind == "chemo")
    src = rng.choice(n, k, replace=False) if k else np.zeros(0, dtype=np.int64)
    first_person = int(c["person"].max()) + 1
    chemo_hosp = rng.choice(top, k)  # all cycles of a patient at one hospital
    age = np.clip(c["age"][src], 40, 75)
    first_day = c["adm_s"][src] // DAY
    # A birthday at least 35 days after the first cycle keeps one age over all three cycles.
    birth = birth_days(first_day, age, rng.integers(1, 330, k))
    for cycle in range(3):
        cyc = derive(
            c,
            src,
            prof=chemo_pid,
            hosp=chemo_hosp,
            los=3,
            dscg_way=1,
            adm_way=2,
            flag31=2 if cycle < 2 else 1,
            person=np.arange(first_person, first_person + k),
            adm_s=(first_day + cycle * 14) * DAY + 9 * 3600,
            age=age,
            birth_day=birth,
        )
        cyc["cm"][:] = False
        c = concat(c, cyc)
    return c


def _month(
    n, month, year, hosp, cat: Catalog, surgery_item, rate, rng, offset, with_medrcd
) -> dict:
    c = make_cases(n, month, year, hosp, rng)
    c = _legit_follow_ups(c, hosp, rng)
    level = hosp.level[c["hosp"]]
    q = quota(n, rate, rng)
    c, labels, extra_dx, lowadm, under = plan_cases(c, level, q, rng)
    level = hosp.level[c["hosp"]]
    lines = clean_lines(c, level, cat, rng, surgery_item)
    lines, keep, more = plant_lines(lines, c, level, cat, q, rng, lowadm, under)
    labels += more
    from huiyan.synth.tables import build_tables

    return build_tables(
        c, level, hosp, cat, lines, keep, labels, extra_dx, offset, year, with_medrcd, rng
    )
