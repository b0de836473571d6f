"""Daily fee lines of the clean background, generated for a whole batch at once.

A line block is a dict of arrays: ``case`` (index in the batch), ``item`` (catalog index),
``t`` (epoch seconds), ``cnt`` (integer quantity) and ``orig`` (for a refund, the ``uid`` of
the line it reverses, else -1). Bed-days equal LOS (day 0 … LOS-1); every bed-day also has
nursing, consultation and a drug line, so no day is "bed only". Times stay inside the stay.
"""

from __future__ import annotations

import numpy as np

from huiyan.synth.catalog import Catalog
from huiyan.synth.profiles import comorbidities, profiles
from huiyan.synth.region import DAY, dscg_s, profile_arrays, region_params
from huiyan.synth.world import world

Lines = dict[str, np.ndarray]
COLS = ("case", "item", "t", "cnt", "orig")


class LineBuilder:
    """Collects line blocks for one batch of cases."""

    def __init__(self, cases: dict[str, np.ndarray], level: np.ndarray) -> None:
        self.cases = cases
        self.level = level  # hospital level per case
        self.blocks: list[Lines] = []
        self.day0 = cases["adm_s"] // DAY * DAY
        self.adm = cases["adm_s"]
        self.dscg = dscg_s(cases)

    def at(self, case: np.ndarray, day: np.ndarray, offset: int | np.ndarray) -> np.ndarray:
        """Time of a line on ``day`` of the stay at ``offset`` seconds after midnight, kept inside."""
        t = self.day0[case] + day * DAY + offset
        t = np.maximum(t, self.adm[case] + 600 + (np.asarray(offset) % 1800))
        return np.minimum(t, self.dscg[case] - 600)

    def emit(
        self, case: np.ndarray, item: int | np.ndarray, t: np.ndarray, cnt: int | np.ndarray
    ) -> None:
        n = len(case)
        if n == 0:
            return
        self.blocks.append(
            {
                "case": case.astype(np.int64),
                "item": np.broadcast_to(np.asarray(item, dtype=np.int64), (n,)).copy(),
                "t": t.astype(np.int64),
                "cnt": np.broadcast_to(np.asarray(cnt, dtype=np.int64), (n,)).copy(),
                "orig": np.full(n, -1, dtype=np.int64),
            }
        )

    def daily(
        self, case: np.ndarray, first: np.ndarray, ndays: np.ndarray, item: int, cnt, offset: int
    ) -> None:
        """One line per day for ``ndays`` days from day ``first`` (cnt scalar or per case)."""
        ndays = np.maximum(ndays, 0)
        rep = np.repeat(case, ndays)
        start = np.repeat(np.cumsum(ndays) - ndays, ndays)
        day = np.repeat(first, ndays) + np.arange(len(rep)) - start
        c = np.repeat(np.broadcast_to(np.asarray(cnt), case.shape), ndays)
        self.emit(rep, item, self.at(rep, day, offset), c)

    def build(self) -> Lines:
        if not self.blocks:
            return {c: np.zeros(0, dtype=np.int64) for c in COLS}
        offsets = np.cumsum([0] + [len(b["case"]) for b in self.blocks])
        for k, blk in enumerate(self.blocks):
            if k and (blk["orig"] == -2).all():  # a refund block reverses the block before it
                blk["orig"] = offsets[k - 1] + np.arange(len(blk["case"]))
        out = {c: np.concatenate([b[c] for b in self.blocks]) for c in COLS}
        order = np.lexsort((out["t"], out["case"]))
        new_pos = np.empty_like(order)
        new_pos[order] = np.arange(len(order))
        out = {c: v[order] for c, v in out.items()}
        refund = out["orig"] >= 0
        out["orig"][refund] = new_pos[out["orig"][refund]]
        return out


def clean_lines(
    cases: dict[str, np.ndarray],
    level: np.ndarray,
    cat: Catalog,
    rng: np.random.Generator,
    surgery_item: np.ndarray,
) -> Lines:
    """The legitimate fee lines of every case of the batch."""
    b = LineBuilder(cases, level)
    pa_ = profile_arrays()
    n = len(cases["los"])
    all_ = np.arange(n)
    los = cases["los"]
    prof = cases["prof"]
    zero = np.zeros(n, dtype=np.int64)
    # Ward days: bed, nursing by grade and consultation are billed every day of the stay.
    b.daily(all_, zero, los, cat["bed"], 1, 8 * 3600)
    for grade in (1, 2, 3):
        m = all_[cases["nurse"] == grade]
        b.daily(m, zero[m], los[m], cat[f"nurse_{grade}"], 1, 8 * 3600 + 600)
    b.daily(all_, zero, los, cat["consult"], 1, 9 * 3600)
    # Intravenous therapy on the active days (about the first 60 % of the stay): one line per
    # drug per day with the day's quantity, plus the infusion service; quiet days have none.
    iv_days = np.maximum(1, np.ceil(los * 0.6).astype(np.int64))
    b.emit(all_, cat["drug_nacl"], b.at(all_, zero, 10 * 3600), rng.integers(1, 3, n))
    b.daily(all_, zero, iv_days, cat["infusion"], rng.integers(1, 3, n), 10 * 3600 + 300)
    # Main drugs sized to the profile's daily cost at the hospital's price level.
    price_lv = {1: 0.55, 2: 0.75, 3: 1.0}
    budget = pa_["daily"][prof] * np.vectorize(price_lv.get)(level) * rng.uniform(0.6, 1.4, n) - 200
    budget *= los / iv_days  # the same cost in fewer billing days
    budget *= severity_factor(cases["cm"])
    main = np.where(pa_["surgical"][prof], cat["drug_lmwh"], cat["drug_ppc"])
    unit = cat.price_fen[main, level] / 100
    cnt = np.clip(np.rint(budget / unit), 1, 40).astype(np.int64)
    for item in (cat["drug_lmwh"], cat["drug_ppc"]):
        m = all_[main == item]
        b.daily(m, zero[m], iv_days[m], item, cnt[m], 11 * 3600)
    # Admission work-up (day 0); a blood count every third day and one CRP on day 3.
    for k, role in enumerate(
        ("cbc", "urine", "liver_panel", "renal", "lytes", "coag", "glucose", "ecg", "xray")
    ):
        b.emit(all_, cat[role], b.at(all_, zero, 13 * 3600 + 60 * k), 1)
    for d in range(3, 61, 3):
        m = all_[los > d]
        b.emit(m, cat["cbc"], b.at(m, np.full(len(m), d), 7 * 3600), 1)
    m = all_[los > 3]
    b.emit(m, cat["crp"], b.at(m, np.full(len(m), 3), 7 * 3600 + 60), 1)
    _exams(b, cases, level, cat)
    _comorbidity_treatment(b, cases, cat)
    _procedures(b, cases, level, cat, rng, surgery_item)
    _refunds(b, cases, cat, rng)
    return b.build()


def _mdc_of(prof: np.ndarray) -> np.ndarray:
    return np.array([p.mdc for p in profiles()], dtype=object)[prof]


def _exams(b: LineBuilder, cases: dict[str, np.ndarray], level: np.ndarray, cat: Catalog) -> None:
    n = len(cases["los"])
    mdc = _mdc_of(cases["prof"])
    one = np.ones(n, dtype=np.int64)
    all_ = np.arange(n)
    gh = np.isin(mdc, ["MDCG", "MDCH"])
    b.emit(all_[gh], cat["us_abd"], b.at(all_[gh], one[gh], 14 * 3600), 1)
    m = all_[(mdc == "MDCF") & (level >= 2)]
    b.emit(m, cat["echo"], b.at(m, one[m], 14 * 3600), 1)
    m = all_[np.isin(mdc, ["MDCB", "MDCE", "MDCV"]) & (level >= 2)]
    b.emit(m, cat["ct"], b.at(m, one[m] * 0, 15 * 3600), 1)
    m = all_[np.isin(mdc, ["MDCB", "MDCI"]) & (level == 3)]
    b.emit(m, cat["mri"], b.at(m, one[m], 16 * 3600), 1)
    # Tumour markers: a full panel with a malignancy, at most two without one (exam_indication).
    cancer = profile_arrays()["cancer"][cases["prof"]] | profile_arrays()["chemo"][cases["prof"]]
    for k, role in enumerate(("tm_cea", "tm_afp", "tm_ca199", "tm_ca724", "tm_nse")):
        m = all_[cancer | (gh & (k < 2))]
        b.emit(m, cat[role], b.at(m, one[m], 7 * 3600 + 120 + k), 1)


def severity_factor(cm: np.ndarray) -> np.ndarray:
    """Per case the main-drug spend multiplier of its worst comorbidity (``severity_cost``).

    Real costs grow with severity (MCC > CC > none within an ADRG); without this the
    generator's MCC groups could weigh less than their plain groups. No random draw.
    """
    factor = region_params().get("severity_cost") or {}
    roles = np.array([c["role"] for c in comorbidities()], dtype=object)
    mcc = cm[:, roles == "mcc"].any(axis=1)
    cc = cm[:, roles == "cc"].any(axis=1) & ~mcc
    return np.where(
        mcc, float(factor.get("mcc", 1.0)), np.where(cc, float(factor.get("cc", 1.0)), 1.0)
    )


def _once(b: LineBuilder, m: np.ndarray, cat: Catalog, item: int, offset: int) -> None:
    """One line on the admission day (before any operation): hours for hourly items."""
    cnt = 4 if cat.rows[item].get("unit") == "小时" else 1
    b.emit(m, item, b.at(m, np.zeros(len(m), dtype=np.int64), offset), cnt)


def _comorbidity_treatment(b: LineBuilder, cases: dict[str, np.ndarray], cat: Catalog) -> None:
    """Lines proving every diagnosis under the merged knowledge (``world.World``)."""
    w = world()
    los = cases["los"]
    zero = np.zeros(len(los), dtype=np.int64)
    for j, c in enumerate(comorbidities()):
        m = np.flatnonzero(cases["cm"][:, j])
        days = los[m] if not c["days"] else np.minimum(los[m], c["days"])
        own = {cat[r]: r for r in c["evidence"]}
        for item in w.cm_items[j]:
            role = own.get(item)
            if role == "hba1c":
                _once(b, m, cat, item, 13 * 3600 + 900)
            elif role is None:
                _once(b, m, cat, item, 1500)
            elif role == "ventilation":
                b.daily(m, zero[m], days, item, 12, 12 * 3600)
            else:
                b.daily(m, zero[m], days, item, 1, 12 * 3600 + 300)
    prof = cases["prof"]
    order = np.argsort(prof, kind="stable")
    bounds = np.searchsorted(prof[order], np.arange(len(w.pdx_items) + 1))
    surgical = profile_arrays()["surgical"]
    for pid, items in enumerate(w.pdx_items):
        m = order[bounds[pid] : bounds[pid + 1]]
        for k, item in enumerate(items):
            drug = cat.rows[item]["list_type"] == "1"
            if drug and not surgical[pid]:
                b.daily(m, zero[m], np.minimum(los[m], 3), item, 1, 12 * 3600 + 1200 + k)
            else:
                _once(b, m, cat, item, 1200 + 60 * k)
    pdx = np.array([p.pdx for p in profiles()], dtype=object)[cases["prof"]]
    stroke = np.flatnonzero(np.char.startswith(pdx.astype(str), "I63"))
    b.daily(
        stroke,
        np.zeros(len(stroke), dtype=np.int64),
        np.minimum(los[stroke], 10),
        cat["drug_ozagrel"],
        2,
        12 * 3600 + 600,
    )
    mdc = _mdc_of(cases["prof"])
    f = np.flatnonzero((mdc == "MDCF") & (b.level >= 2))
    b.daily(
        f,
        np.zeros(len(f), dtype=np.int64),
        np.minimum(los[f], 7),
        cat["drug_shenfu"],
        2,
        12 * 3600 + 900,
    )


def op_times(cases: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Operation day, start and end (seconds) of every case (meaningful for surgical ones)."""
    los = cases["los"]
    day = np.where(los >= 3, 1, 0)
    begin = cases["adm_s"] // DAY * DAY + day * DAY + 9 * 3600
    begin = np.maximum(begin, cases["adm_s"] + 2 * 3600)
    end = begin + (1 + cases["prof"] % 3) * 3600
    return day, begin, end


def _procedures(b: LineBuilder, cases, level, cat: Catalog, rng, surgery_item: np.ndarray) -> None:
    pa_ = profile_arrays()
    prof = cases["prof"]
    los = cases["los"]
    s = np.flatnonzero(pa_["surgical"][prof])
    day, begin, end = op_times(cases)
    hours = ((end - begin) // 3600)[s]
    b.emit(s, surgery_item[prof[s]], begin[s], 1)
    b.emit(s, cat["anaes"], begin[s] - 900, 1)
    b.emit(s, cat["anaes_mon"], begin[s] - 600, hours + 1)
    b.emit(s, cat["material_kit"], begin[s] + 60, 1)
    b.emit(s, cat["material_suture"], begin[s] + 120, rng.integers(1, 4, len(s)))
    impl = s[(np.array([p.complexity for p in profiles()])[prof[s]] == 3) & (level[s] == 3)]
    b.emit(impl, cat["material_implant"], begin[impl] + 180, 1)
    b.emit(s, cat["ecg_mon"], end[s] + 60, 12)
    # Prophylaxis: one dose 30 min before the incision; two more days for non-clean incisions.
    b.emit(s, cat["drug_cefazolin"], begin[s] - 1800, 2)
    # Procedures with a procedure_incision row get the single pre-incision dose only.
    ns = s[~world().prophylaxis_capped[prof[s]]]
    b.daily(
        ns,
        day[ns] + 1,
        np.minimum(2, los[ns] - day[ns] - 1),
        cat["drug_cefazolin"],
        2,
        10 * 3600 + 900,
    )
    post = s[los[s] - day[s] > 2]
    b.emit(post, cat["dressing"], b.at(post, day[post] + 2, 15 * 3600), 1)
    b.emit(post, cat["drug_parenteral"], b.at(post, day[post] + 1, 15 * 3600 + 300), 1)
    c = np.flatnonzero(pa_["chemo"][prof])
    one = np.ones(len(c), dtype=np.int64)
    b.emit(c, cat["drug_chemo"], b.at(c, one, 9 * 3600 + 1800), 2)
    b.emit(c, cat["drug_antiemetic"], b.at(c, one, 9 * 3600), 1)


def _refunds(b: LineBuilder, cases, cat: Catalog, rng) -> None:
    # A saline bag charged twice by mistake and refunded: one item once netted.
    n = len(cases["los"])
    m = np.flatnonzero(rng.random(n) < 0.08)
    if not len(m):
        return
    t = b.at(m, np.zeros(len(m), dtype=np.int64), 10 * 3600 + 1200)
    b.emit(m, cat["drug_nacl"], t, 1)
    b.emit(m, cat["drug_nacl"], t + 1800, -1)
    b.blocks[-1]["orig"][:] = -2  # resolved after sorting: the line just before in the same case
