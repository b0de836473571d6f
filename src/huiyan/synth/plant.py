"""Planted violations (docs/violations.md): one mechanism per class, labelled with evidence.

Case-level classes change the stays before fee lines exist (``plan_cases``); line-level
classes edit the clean fee lines afterwards (``plant_lines``). Each label names the lines by
``uid`` (position in the final line array, turned into ``feedetl_sn`` by the writer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from huiyan.model.enums import enums
from huiyan.synth.catalog import Catalog
from huiyan.synth.evidence import Resolver
from huiyan.synth.fees import COLS, Lines, op_times
from huiyan.synth.national import dup_subs
from huiyan.synth.profiles import comorbidities, excluded, profiles
from huiyan.synth.region import DAY, derive, dscg_s, profile_arrays
from huiyan.synth.world import world

# Declaration order of enums.yaml: ``codes()`` is a frozenset, whose order depends on the hash
# seed, and ``quota`` draws one random number per class in this order.
CLASSES = tuple(enums()["vola_bhvr_type"])
CASE_CLASSES = ("SPLIT", "LOWADM", "UNDERSVC", "UPCODE", "DXCODE")
WARD_TYPES = ("01",)  # bed fee only: no nursing, round, drug or exam, no sign of presence


@dataclass
class Label:
    case: int
    cls: str
    mechanism: str
    uids: list[int] = field(default_factory=list)
    related_case: int = -1
    codes: list[str] = field(default_factory=list)
    amount_fen: int | None = None  # None: computed from the uids' amounts
    amount_rule: str = "lines"  # lines / case_cost / upcode


def proving_items(cat: Catalog, groups: list[frozenset[tuple[str, str]]]) -> np.ndarray:
    """Catalog indices whose net line proves at least one evidence row of ``groups``.

    Stricter than any one reading of ``dx_evidence``/``oprn_evidence`` (longest prefix only or
    every prefix): a code whose evidence none of a case's items covers is unsupported under all.
    """
    wanted = [e for g in groups for e in g]
    codes = cat.column("hilist_code")
    return np.flatnonzero([any(Resolver.covers(str(c), e) for e in wanted) for c in codes])


def _billed(i: int, cases) -> set[int]:
    """Catalog items that prove case ``i``'s principal, procedure and comorbidities."""
    w = world()
    prof = int(cases["prof"][i])
    items = set(w.pdx_items[prof])
    if w.surgery_item[prof] >= 0:
        items.add(int(w.surgery_item[prof]))
    for j in np.flatnonzero(cases["cm"][i]):
        items.update(w.cm_items[j])
    return items


def _unproven(cases, code: str, cat: Catalog) -> np.ndarray:
    """Per case: none of the items its clean stay bills for its own codes proves ``code``."""
    proof = set(proving_items(cat, world().knowledge.dx_groups(code)).tolist())
    return np.array([not (_billed(i, cases) & proof) for i in range(len(cases["los"]))])


def _ward_run(days: np.ndarray, chrg: np.ndarray, last: int, first: int, end: int) -> tuple:
    """Widen the ward-only days ``first..end`` over neighbouring ward-only days of the stay
    (strictly between the admission day 0 and the discharge day ``last``)."""

    def ward_only(d: int) -> bool:
        on = chrg[days == d]
        return 0 < d < last and len(on) > 0 and bool(np.isin(on, WARD_TYPES).all())

    while ward_only(first - 1):
        first -= 1
    while ward_only(end + 1):
        end += 1
    return first, end


def quota(n: int, rate: float, rng: np.random.Generator) -> dict[str, int]:
    """Cases to plant per class: the violation rate shared equally by the classes."""
    share = n * rate / len(CLASSES)
    return {c: int(np.floor(share + rng.random())) for c in CLASSES}


def plan_cases(
    cases, level, quota_: dict[str, int], rng
) -> tuple[dict, list[Label], dict[int, list[str]], np.ndarray, np.ndarray]:
    """Case-level plants: the cases (with readmissions appended), labels, extra dx, and the
    low-standard admissions and under-service cases (indices) that ``plant_lines`` trims."""
    pa_ = profile_arrays()
    n = len(cases["los"])
    used = cases["dscg_way"] != 1  # keep deaths, transfers … out of the planted pool
    labels: list[Label] = []
    extra_dx: dict[int, list[str]] = {}

    def pick(mask: np.ndarray, k: int) -> np.ndarray:
        pool = np.flatnonzero(mask & ~used)
        got = rng.choice(pool, size=min(k, len(pool)), replace=False) if k else pool[:0]
        used[got] = True
        return np.sort(got)

    ps = profiles()
    cms = comorbidities()
    is_mcc_cc = np.array([c["role"] in ("mcc", "cc") for c in cms])
    no_cc = ~(cases["cm"][:, is_mcc_cc].any(axis=1))
    split_mcc = np.array([p.has_mcc_split for p in ps])[cases["prof"]]
    surg = pa_["surgical"][cases["prof"]]
    cat = world().cat
    # An MCC added without treatment evidence: the first one the principal does not exclude and
    # the stay's own treatment does not prove (otherwise it would be a supported code).
    mcc_codes = [c["code"] for c in cms if c["role"] == "mcc"]
    unproven = {code: _unproven(cases, code, cat) for code in mcc_codes}

    def upcode_code(i: int) -> str | None:
        pdx = ps[cases["prof"][i]].pdx
        return next((c for c in mcc_codes if not excluded(pdx, c) and unproven[c][i]), None)

    can_upcode = np.array([upcode_code(i) is not None for i in range(n)])
    for i in pick(split_mcc & no_cc & ~surg & can_upcode, quota_["UPCODE"]):
        code = upcode_code(int(i))
        if code:
            extra_dx.setdefault(int(i), []).append(code)
            labels.append(
                Label(
                    int(i),
                    "UPCODE",
                    f"加编无治疗证据的严重并发症{code}",
                    codes=[code],
                    amount_rule="upcode",
                )
            )
    i10 = next(j for j, c in enumerate(cms) if c["code"].startswith("I10"))
    e11 = next(j for j, c in enumerate(cms) if c["code"].startswith("E11"))
    for k, i in enumerate(
        pick(
            ~cases["cm"][:, i10]
            & ~np.array([p.pdx.startswith("I10") for p in ps])[cases["prof"]]
            & _unproven(cases, cms[i10]["code"], cat),
            quota_["DXCODE"],
        )
    ):
        variant = k % 3
        if variant == 1:
            code = "N40.x00" if cases["sex"][i] == 2 else "N95.100"
            mech = f"诊断{code}与患者性别不符"
        elif variant == 2 and cases["cm"][i, e11]:
            code, mech = "E10.900", "1型与2型糖尿病诊断同时存在"
        else:
            code, mech = "I10.x00", "其他诊断I10.x00无治疗证据"
        extra_dx.setdefault(int(i), []).append(code)
        labels.append(Label(int(i), "DXCODE", mech, codes=[code], amount_fen=0))
    treatable = np.array([p.pid for p in ps if p.outpatient_treatable and p.kind == "medical"])
    lowadm = pick(np.ones(n, dtype=bool), quota_["LOWADM"])
    cases["prof"][lowadm] = rng.choice(treatable, len(lowadm))
    cases["los"][lowadm] = rng.integers(1, 4, len(lowadm))
    cases["cm"][lowadm] = False
    cases["sex"][lowadm] = np.where(
        np.array([ps[p].sex or 0 for p in cases["prof"][lowadm]]) > 0,
        [int(ps[p].sex or 0) for p in cases["prof"][lowadm]],
        cases["sex"][lowadm],
    )
    labels += [
        Label(int(i), "LOWADM", "门诊可治疗病种短期住院仅做检查", amount_rule="case_cost")
        for i in lowadm
    ]
    under = pick(surg, quota_["UNDERSVC"])
    cases["los"][under] = rng.integers(1, 3, under.size)
    cases["cm"][under] = False
    labels += [
        Label(
            int(i),
            "UNDERSVC",
            "编码手术未实施即出院",
            codes=[ps[cases["prof"][i]].oprn or ""],
            amount_rule="undersvc",
        )
        for i in under
    ]
    base = pick(~pa_["chemo"][cases["prof"]], quota_["SPLIT"])
    gap = rng.integers(0, 11, base.size)
    readm = derive(
        cases,
        base,
        adm_s=(dscg_s(cases)[base] // DAY + gap) * DAY + 14 * 3600,
        los=np.maximum(2, cases["los"][base] // 2),
        adm_way=2,
        dscg_way=1,
    )
    first = n
    labels += [
        Label(
            first + k,
            "SPLIT",
            f"出院{int(g)}天后同病种再入院",
            related_case=int(b),
            amount_rule="fund",
        )
        for k, (b, g) in enumerate(zip(base, gap, strict=True))
    ]
    cases = {k: np.concatenate([cases[k], readm[k]]) for k in cases}
    return cases, labels, extra_dx, lowadm, under


def plant_lines(
    lines: Lines, cases, level, cat: Catalog, quota_, rng, lowadm, under
) -> tuple[Lines, np.ndarray, list[Label]]:
    """Item-level plants on the clean lines; returns lines, unit price (fen) per line, labels."""
    n = len(cases["los"])
    chrg = cat.column("med_chrgitm_type")[lines["item"]]
    keep = np.ones(len(lines["case"]), dtype=bool)
    # Low-standard admissions keep only ward, examination and laboratory lines.
    ward_exam = np.isin(chrg, ["01", "02", "03", "04", "07"])
    keep &= ~(np.isin(lines["case"], lowadm) & ~ward_exam)
    # Under-service: the coded principal procedure was not done, so no line may prove it —
    # whatever its charge type (a dialysis or stent item may be a treatment, 05) — nor any
    # surgery, anaesthesia or material line.
    keep &= ~(np.isin(lines["case"], under) & np.isin(chrg, ["06", "08"]))
    ps = profiles()
    for pid in np.unique(cases["prof"][under]):
        groups = world().knowledge.oprn_groups(ps[pid].oprn or "")
        of_pid = under[cases["prof"][under] == pid]
        proof = proving_items(cat, groups)
        keep &= ~(np.isin(lines["case"], of_pid) & np.isin(lines["item"], proof))
    day = lines["t"] // DAY - (cases["adm_s"] // DAY)[lines["case"]]
    used = np.zeros(n, dtype=bool)
    used[lowadm] = used[under] = True
    used |= cases["dscg_way"] != 1
    starts = np.searchsorted(lines["case"], np.arange(n + 1))
    price = cat.price_fen[lines["item"], level[lines["case"]]].copy()
    add: list[dict[str, int]] = []
    labels: list[Label] = []
    next_uid = [len(keep)]

    def new(case: int, role: str, t: int, cnt: int, pric: int | None = None) -> int:
        item = cat[role]
        add.append(
            {
                "case": case,
                "item": item,
                "t": t,
                "cnt": cnt,
                "orig": -1,
                "price": pric if pric is not None else int(cat.price_fen[item, level[case]]),
            }
        )
        next_uid[0] += 1
        return next_uid[0] - 1

    def pick(mask: np.ndarray, k: int) -> np.ndarray:
        pool = np.flatnonzero(mask & ~used)
        got = rng.choice(pool, size=min(k, len(pool)), replace=False) if k else pool[:0]
        used[got] = True
        return np.sort(got)

    def lines_of(i: int, role: str, d: int | None = None) -> np.ndarray:
        s = np.arange(starts[i], starts[i + 1])
        s = s[(lines["item"][s] == cat[role]) & keep[s] & (lines["cnt"][s] > 0)]
        return s if d is None else s[day[s] == d]

    los = cases["los"]
    adm_day = cases["adm_s"] // DAY * DAY
    dscg = dscg_s(cases)
    mdc = np.array([p.mdc for p in profiles()], dtype=object)[cases["prof"]]
    has_ct = np.isin(mdc, ["MDCB", "MDCE", "MDCV"]) & (level >= 2)
    for i in pick(has_ct & (los >= 4), quota_["OVEREXAM"]):
        uid = new(i, "ct", int(adm_day[i] + 2 * DAY + 15 * 3600), 1)
        labels.append(Label(int(i), "OVEREXAM", "CT平扫最短间隔内重复检查", [uid]))
    clean_inc = np.array([p.clean_incision for p in ps])[cases["prof"]]
    infect = cases["cm"][:, [j for j, c in enumerate(comorbidities()) if c["code"][0] in "AJ"]].any(
        axis=1
    )
    opday, _, op_end = op_times(cases)
    for i in pick(clean_inc & ~infect & (los - opday >= 5), quota_["OVERTREAT"]):
        uids = [new(i, "drug_cefazolin", int(op_end[i] + 86400 * k + 3600), 2) for k in (2, 3)]
        labels.append(Label(int(i), "OVERTREAT", "Ⅰ类切口手术预防用抗菌药物超过24小时", uids))
    subs = dup_subs(cat.code("dup_main"))
    for i in pick(los >= 2, quota_["DUPCHG"]):
        new(i, "dup_main", int(adm_day[i] + DAY + 8 * 3600 + 1800), 1)
        sub = [
            u
            for r in subs
            if r in cat.code_index
            for u in lines_of(i, cat.rows[cat.code_index[r]]["role"], 1)
        ]
        labels.append(
            Label(int(i), "DUPCHG", "急诊监护费已含床位费等仍另收", [int(u) for u in sub])
        )
    for i in pick(np.ones(n, dtype=bool), quota_["UNBUNDLE"]):
        panel = lines_of(i, "liver_panel", 0)
        if not len(panel):
            continue
        keep[panel] = False
        t = int(lines["t"][panel[0]])
        parts = ("alt", "ast", "tbil", "dbil", "alb")
        uids = [new(i, r, t, 1) for r in parts]
        total = sum(int(cat.price_fen[cat[r], level[i]]) for r in parts)
        # What the fund overpaid: components' sum − bundle price, never below 0 nor above the sum.
        over = min(max(total - int(price[panel[0]]), 0), total)
        labels.append(Label(int(i), "UNBUNDLE", "肝功能组合拆分为单项收费", uids, amount_fen=over))
    for i in pick(np.ones(n, dtype=bool), quota_["OVERPRICE"]):
        x = lines_of(i, "xray", 0)
        if len(x):
            limit = int(price[x[0]])
            price[x[0]] = limit * 13 // 10
            labels.append(
                Label(
                    int(i),
                    "OVERPRICE",
                    "胸部DR收费高于本级医院限价",
                    [int(x[0])],
                    amount_fen=price[x[0]] - limit,
                )
            )
    for i in pick(los >= 2, quota_["OVERQTY"]):
        x = lines_of(i, "consult", 1)
        if len(x):
            lines["cnt"][x[0]] = 2
            labels.append(
                Label(
                    int(i),
                    "OVERQTY",
                    "住院诊查费单日超过1次",
                    [int(x[0])],
                    amount_fen=int(price[x[0]]),
                )
            )
    for i in pick((cases["sex"] == 1) & (los >= 2), quota_["SEX"]):
        labels.append(
            Label(
                int(i),
                "SEX",
                "男性患者使用限女性药品",
                [new(i, "drug_female", int(adm_day[i] + DAY + 16 * 3600), 1)],
            )
        )
    for i in pick((cases["age"] >= 18) & (los >= 2), quota_["AGE"]):
        labels.append(
            Label(
                int(i),
                "AGE",
                "成人使用儿童专用药品",
                [new(i, "drug_child", int(adm_day[i] + DAY + 16 * 3600), 2)],
            )
        )
    for i in pick((level == 1) & (los >= 2), quota_["LEVEL"]):
        p2 = int(cat.price_fen[cat["drug_shenfu"], 2])
        labels.append(
            Label(
                int(i),
                "LEVEL",
                "一级医院使用限二级及以上医疗机构药品",
                [new(i, "drug_shenfu", int(adm_day[i] + DAY + 16 * 3600), 2, p2)],
            )
        )
    stroke = np.array([p.pdx.startswith("I63") for p in ps])[cases["prof"]]
    for i in pick(~stroke & (los >= 2), quota_["INDICATION"]):
        labels.append(
            Label(
                int(i),
                "INDICATION",
                "无脑梗死诊断使用限定支付范围药品奥扎格雷钠",
                [new(i, "drug_ozagrel", int(adm_day[i] + DAY + 16 * 3600), 2)],
            )
        )
    for i in pick(los >= 2, quota_["OVERDOSE"]):
        uid = new(i, "drug_ppi", int(adm_day[i] + DAY + 16 * 3600), 4)
        labels.append(
            Label(
                int(i),
                "OVERDOSE",
                "奥美拉唑单日用量超过2支",
                [uid],
                amount_fen=2 * int(cat.price_fen[cat["drug_ppi"], level[i]]),
            )
        )
    for i in pick(np.ones(n, dtype=bool), quota_["FAKE"]):
        labels.append(
            Label(int(i), "FAKE", "出院后仍有药品费用", [new(i, "drug_ppc", int(dscg[i] + DAY), 2)])
        )
    no_cm = ~cases["cm"].any(axis=1) & ~profile_arrays()["surgical"][cases["prof"]] & ~stroke
    for i in pick(no_cm & (los >= 7), quota_["BEDHANG"]):
        s = np.arange(starts[i], starts[i + 1])
        window = s[(day[s] >= 2) & (day[s] <= 4)]
        ward = np.isin(chrg[window], WARD_TYPES)
        keep[window[~ward]] = False
        # The run of ward-only days may reach quiet neighbours (days without drugs or tests):
        # the label covers the whole run, inside the stay, as the days "without treatment".
        kept = s[keep[s]]
        last = int(dscg[i] // DAY - adm_day[i] // DAY)
        first, end = _ward_run(day[kept], chrg[kept], last, 2, 4)
        run = kept[(day[kept] >= first) & (day[kept] <= end)]
        d0 = (adm_day[i] // DAY + first).astype("datetime64[D]")
        lab = Label(
            int(i),
            "BEDHANG",
            f"{d0}起连续{end - first + 1}天仅收床位费, 无护理、查房、用药及检查",
            [int(u) for u in run],
        )
        labels.append(lab)
    for i in pick(los >= 3, quota_["EXCLUSIVE"]):
        grade = int(cases["nurse"][i])
        last_day = lines_of(i, f"nurse_{grade}", int(los[i]) - 1)
        if len(last_day):
            keep[last_day[0]] = False
            other = 1 + grade % 3
            labels.append(
                Label(
                    int(i),
                    "EXCLUSIVE",
                    "同日收取两种护理等级",
                    [new(i, f"nurse_{other}", int(adm_day[i] + DAY + 8 * 3600 + 900), 1)],
                )
            )
    base = {c: lines[c] for c in COLS}
    base["price"] = price
    if add:
        extra = {c: np.array([a[c] for a in add], dtype=np.int64) for c in (*COLS, "price")}
        base = {c: np.concatenate([base[c], extra[c]]) for c in base}
        keep = np.concatenate([keep, np.ones(len(add), dtype=bool)])
    return base, keep, labels
