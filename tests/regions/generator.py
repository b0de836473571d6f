"""A second, independent region generator for measuring the audit on data it was not tuned on.

Written from docs/design.md (§3 formats, §5 classes) and docs/domain-reference.md only; it imports
nothing from ``huiyan.synth``. It has its own hospitals, catalog subset and clinical profiles
(``data/*.yaml``), sparse bureau knowledge tables, and a clean background full of legitimate
look-alikes (chemotherapy cycles, same-day transfers, newborns under the mother's number,
deaths on day 1, discharges against advice, refunds and re-charges, quiet recovery days,
therapeutic antibiotics after contaminated surgery, ward changes, surgery billed with items the
bureau's map does not list). Each planted violation is one mechanism of one class, labelled
on the case (``labels.csv``: setl_id, vola_bhvr_type, mechanism, detail, amount).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data"
CLASSES = (
    "UPCODE",
    "SPLIT",
    "LOWADM",
    "UNDERSVC",
    "DXCODE",
    "OVEREXAM",
    "OVERTREAT",
    "DUPCHG",
    "UNBUNDLE",
    "OVERPRICE",
    "OVERQTY",
    "SEX",
    "AGE",
    "LEVEL",
    "INDICATION",
    "OVERDOSE",
    "FAKE",
    "BEDHANG",
    "EXCLUSIVE",
)
START = datetime(2025, 1, 6)


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


@dataclass
class Line:
    key: str
    at: datetime
    cnt: float
    pric: float | None = None  # None: the catalog price at the hospital's level
    refund_of: int | None = None  # index (in the stay's lines) of the line it reverses
    takeaway: bool = False


@dataclass
class Stay:
    psn: str
    gend: str
    age: int
    hospital: list[str]
    adm: datetime
    los: int
    profile: str
    diags: list[tuple[str, str]]
    lines: list[Line] = field(default_factory=list)
    oprn: dict[str, Any] | None = None
    adm_way: str = "2"
    dscg_way: str = "1"
    flag31: str = "1"
    dscg: datetime | None = None
    labels: list[tuple[str, str, str]] = field(default_factory=list)
    setl_id: str = ""

    @property
    def level(self) -> int:
        return int(self.hospital[2])


class Region:
    """Builds the stays of one region; ``write`` puts them in a dataset folder."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        cat = _load("catalog.yaml")
        self.items: dict[str, list[Any]] = cat["items"]
        self.knowledge: dict[str, list[dict[str, Any]]] = cat["knowledge"]
        self.hospitals: list[list[str]] = cat["hospitals"]
        self.profiles: dict[str, dict[str, Any]] = _load("profiles.yaml")["profiles"]
        self.stays: list[Stay] = []
        self._psn = 0

    # -- building blocks ------------------------------------------------------------------
    def person(self, sex: str | None, ages: list[int]) -> tuple[str, str, int]:
        self._psn += 1
        gend = sex or self.rng.choice("12")
        return f"R{self._psn:08d}", gend, self.rng.randint(*ages)

    def hospital(self, levels: list[int]) -> list[str]:
        return self.rng.choice([h for h in self.hospitals if int(h[2]) in levels])

    def price(self, key: str, level: int) -> float:
        return float(self.items[key][4 + level])

    def stay(
        self,
        name: str,
        *,
        los: int | None = None,
        psn: tuple[str, str, int] | None = None,
        hospital: list[str] | None = None,
        adm: datetime | None = None,
    ) -> Stay:
        """An ordinary stay of profile ``name`` (its lines, diagnoses and procedure)."""
        p = self.profiles[name]
        rng = self.rng
        psn = psn or self.person(p.get("sex"), p["age"])
        los = los if los is not None else rng.randint(*p["los"])
        hospital = hospital or self.hospital(p["levels"])
        if adm is None:
            adm = START + timedelta(days=rng.randint(0, 300), minutes=rng.randint(8 * 60, 16 * 60))
        diags = [tuple(p["pdx"])]
        treat: list[list[Any]] = []
        for code, dname, prob, items in p.get("secondary", []):
            if rng.random() < prob:
                diags.append((code, dname))
                treat.extend(items)
        s = Stay(psn[0], psn[1], psn[2], hospital, adm, los, name, diags)
        day0 = adm.replace(hour=0, minute=0, second=0)
        for d in range(los):
            morning = day0 + timedelta(days=d, hours=9, minutes=rng.randint(0, 50))
            if d == 0:
                morning = max(morning, adm + timedelta(minutes=20))
            s.lines.append(Line("bed", morning, 1))
            s.lines.append(Line(p["nursing"], morning + timedelta(minutes=5), 1))
            s.lines.append(Line("consult", morning + timedelta(minutes=10), 1))
            if d < p.get("daily_until", los):
                for key, cnt in [*p["daily"], *treat]:
                    s.lines.append(Line(key, morning + timedelta(hours=1), cnt))
            for key, cnt in p.get("once", {}).get(d, []):
                if d < los:
                    s.lines.append(Line(key, morning + timedelta(hours=2), cnt))
        surgery = p.get("surgery")
        if surgery and surgery["day"] < los:
            begin = day0 + timedelta(days=surgery["day"], hours=13)
            if begin < adm + timedelta(hours=2):
                begin = adm + timedelta(hours=3)
            end = begin + timedelta(hours=2)
            s.oprn = {"code": surgery["code"], "name": surgery["name"], "begin": begin, "end": end}
            for key, cnt in surgery["items"]:
                s.lines.append(Line(key, end, cnt))
            if surgery["incision"] == "I":
                # Prophylaxis: one dose 30 min before the incision, one 8 h after (< 24 h).
                s.lines.append(Line("cefazolin", begin - timedelta(minutes=30), 1))
                s.lines.append(Line("cefazolin", end + timedelta(hours=8), 1))
        s.dscg = day0 + timedelta(days=los, hours=10, minutes=rng.randint(0, 40))
        self.stays.append(s)
        return s

    def drop(self, s: Stay, keys: set[str], days: range | None = None) -> None:
        day0 = s.adm.replace(hour=0, minute=0, second=0)
        s.lines = [
            x
            for x in s.lines
            if not (x.key in keys and (days is None or (x.at - day0).days in days))
        ]

    def at(self, s: Stay, day: int, hour: int = 11) -> datetime:
        return s.adm.replace(hour=0, minute=0, second=0) + timedelta(days=day, hours=hour)

    # -- the clean background and its look-alikes -------------------------------------------
    def background(self, n: int) -> None:
        names = list(self.profiles)
        weights = [self.profiles[k]["weight"] for k in names]
        while len(self.stays) < n:
            r = self.rng.random()
            if r < 0.03:
                self.chemo_cycles()
            elif r < 0.05:
                self.transfer()
            elif r < 0.065:
                self.delivery_and_newborn()
            elif r < 0.075:
                self.short_exit("5")
            elif r < 0.085:
                self.short_exit("4")
            else:
                s = self.stay(self.rng.choices(names, weights)[0])
                u = self.rng.random()
                if u < 0.05:
                    self.refund_and_recharge(s)
                elif u < 0.08:
                    self.ward_change(s)

    def chemo_cycles(self) -> None:
        """Planned chemotherapy cycles 21 days apart (``days_rinp_flag_31`` = 2): short, cheap,
        repeated, and not split admissions, low-standard admissions nor under-service."""
        psn = self.person(None, [45, 80])
        h = self.hospital([3])
        adm = START + timedelta(days=self.rng.randint(0, 240), hours=9)
        cycles = self.rng.randint(2, 4)
        for k in range(cycles):
            s = self.stay("pneumonia", los=self.rng.randint(2, 3), psn=psn, hospital=h, adm=adm)
            s.profile = "chemo"
            s.diags = [("Z51.102", "手术后恶性肿瘤化学治疗"), ("C34.900", "支气管或肺恶性肿瘤")]
            s.lines = [x for x in s.lines if x.key in ("bed", "nurse2", "consult")]
            s.lines += [
                Line("cbc", self.at(s, 0, 10), 1),
                Line("cisplatin", self.at(s, 1, 10), 3),
                Line("ondansetron", self.at(s, 1, 10), 2),
                Line("saline", self.at(s, 1, 10), 2),
            ]
            s.flag31 = "2" if k < cycles - 1 else "1"
            adm += timedelta(days=21)

    def transfer(self) -> None:
        """A stroke moved to a level-3 hospital the day of discharge (``dscg_way`` 2 →
        ``adm_way`` 3); the receiving admission is entered up to 3 h before the discharge."""
        a = self.stay("stroke", hospital=self.hospital([2]))
        a.dscg_way = "2"
        adm = a.dscg + timedelta(minutes=self.rng.randint(-180, 120))
        b = self.stay("stroke", psn=(a.psn, a.gend, a.age), hospital=self.hospital([3]), adm=adm)
        b.adm_way = "3"

    def delivery_and_newborn(self) -> None:
        """A mother's delivery and her newborn's jaundice stay at the children's hospital under
        the mother's insurance number (age 0): two stays of one number at once, both real."""
        m = self.stay("gastritis", psn=self.person("2", [22, 38]), hospital=self.hospital([2, 3]))
        m.profile = "delivery"
        m.diags = [("O80.000", "头位顺产")]
        m.los = 3
        m.dscg = self.at(m, 3, 10)
        m.lines = [x for x in m.lines if x.key in ("bed", "nurse2", "consult")]
        m.lines = [x for x in m.lines if (x.at - m.adm.replace(hour=0, minute=0)).days < 3]
        m.lines += [Line("oxytocin", self.at(m, 0, 14), 2), Line("cbc", self.at(m, 0, 10), 1)]
        kids = [h for h in self.hospitals if h[3] == "专科"]
        b = self.stay(
            "gastritis",
            psn=(m.psn, self.rng.choice("12"), 0),
            hospital=kids[0],
            adm=m.adm + timedelta(days=1, hours=2),
            los=5,
        )
        b.profile = "newborn"
        b.diags = [("P59.900", "新生儿黄疸")]
        b.lines = [x for x in b.lines if x.key in ("bed", "nurse2", "consult")]
        b.lines += [Line("phototherapy", self.at(b, d, 12), 8) for d in range(4)]
        b.lines += [Line("bilirubin", self.at(b, d, 8), 1) for d in (0, 2, 4) if d < b.los]

    def short_exit(self, way: str) -> None:
        """A death on day 1 (5) or a discharge against advice (4): short and cheap, and
        sometimes only examined before it happened."""
        name = "heart_failure" if way == "5" else self.rng.choice(["pneumonia", "copd"])
        s = self.stay(name, los=1)
        s.dscg_way = way
        if self.rng.random() < 0.5:
            s.lines = [x for x in s.lines if self.items[x.key][3] in ("01", "02", "03", "04", "07")]

    def refund_and_recharge(self, s: Stay) -> None:
        """A line refunded (negative quantity naming it) and charged again: one item, net."""
        i = self.rng.randrange(len(s.lines))
        x = s.lines[i]
        s.lines.append(Line(x.key, x.at + timedelta(minutes=30), -x.cnt, refund_of=i))
        s.lines.append(Line(x.key, x.at, x.cnt))

    def ward_change(self, s: Stay) -> None:
        """From the middle of the stay the bed is a single room: one bed a day, two bed items."""
        mid = s.los // 2
        for x in s.lines:
            if x.key == "bed" and (x.at - s.adm.replace(hour=0, minute=0)).days >= mid:
                x.key = "bed_single"

    # -- planted violations -----------------------------------------------------------------
    def pick(self, *names: str, los: int | None = None) -> Stay:
        s = self.stay(self.rng.choice(names), los=los)
        return s

    def plant(self, cls: str) -> None:
        rng = self.rng
        label = cls
        if cls == "UPCODE":
            if rng.random() < 0.5:
                s = self.pick("pneumonia")
                # No statin: atorvastatin (C10) would be evidence of the stroke it claims.
                self.drop(s, {"atorva"})
                s.diags = [("I63.900", "脑梗死"), ("J18.900", "肺炎")]
                s.labels.append((label, "主诊断改为无诊疗证据的脑梗死, 实际治疗肺炎", "I63.900"))
            else:
                s = self.pick("hernia")
                self.drop(s, {"hernia_op", "anaesthesia", "mesh", "cefazolin"})
                s.labels.append((label, "编码疝修补术但无手术收费, 按手术组付费", "53.0001"))
        elif cls == "SPLIT":
            a = self.pick("pneumonia", "copd", "heart_failure")
            gap = rng.randint(2, 10)
            b = self.stay(
                a.profile,
                psn=(a.psn, a.gend, a.age),
                hospital=a.hospital,
                adm=a.dscg + timedelta(days=gap, hours=1),
            )
            b.labels.append((label, f"出院{gap}天后同院同病种再入院", ""))
        elif cls == "LOWADM":
            s = self.pick("hypertension", "gastritis", "diabetes", los=rng.randint(1, 2))
            s.lines = [x for x in s.lines if self.items[x.key][3] in ("01", "02", "03", "04", "07")]
            s.lines.append(Line("us_abdomen", self.at(s, 0, 15), 1))
            s.diags = s.diags[:1]
            s.labels.append((label, "住院1-2天仅做检查检验", ""))
        elif cls == "UNDERSVC":
            s = self.pick("copd", "stroke", "heart_failure", los=1)
            keep = {"bed", "consult", "nurse1", "nurse2", "infusion"}
            s.lines = [x for x in s.lines if x.key in keep]
            s.diags = s.diags[:1]
            s.labels.append((label, "入院当日仅输液即出院, 费用与住院日远低于病组水平", ""))
        elif cls == "DXCODE":
            r = rng.random()
            s = self.pick("pneumonia", "copd")
            if r < 0.4:
                s.diags.append(("E78.500", "高脂血症"))
                self.drop(s, {"atorva"})
                s.diags = list(dict.fromkeys(s.diags))
                s.labels.append((label, "其他诊断高脂血症无治疗证据", "E78.500"))
            elif r < 0.7:
                s.gend = "2"
                s.diags.append(("N40.x00", "前列腺增生"))
                s.labels.append((label, "女性患者编码前列腺增生", "N40.x00"))
            else:
                s.diags += [("E10.900", "1型糖尿病"), ("E11.900", "2型糖尿病")]
                s.lines.append(Line("insulin", self.at(s, 1, 8), 1))
                s.labels.append((label, "1型与2型糖尿病同时编码", "E10.900|E11.900"))
        elif cls == "OVEREXAM":
            s = self.pick("stroke")
            s.lines.append(Line("ct_head", self.at(s, 1, 15), 1))
            s.labels.append((label, "头颅CT间隔不足3天重复", ""))
        elif cls == "OVERTREAT":
            s = self.pick("hernia")
            for d in range(2, min(s.los, 5)):
                s.lines.append(Line("cefazolin", self.at(s, d, 18), 2))
            s.labels.append((label, "Ⅰ类切口疝修补术后预防用头孢唑林超过24小时", ""))
        elif cls == "DUPCHG":
            s = self.pick("heart_failure")
            echo = next(x for x in s.lines if x.key == "echo")
            s.lines.append(Line("echo", echo.at, 1))
            s.labels.append((label, "同一时间重复收取超声心动图", ""))
        elif cls == "UNBUNDLE":
            s = self.pick("diabetes", "cholecystitis")
            self.drop(s, {"liver_panel"})
            for key in ("bilirubin", "dbil", "alt", "ast"):
                s.lines.append(Line(key, self.at(s, 0, 11), 1))
            s.labels.append((label, "肝功能组合拆分为单项收费", ""))
        elif cls == "OVERPRICE":
            s = self.pick("pneumonia", "copd", "diabetes")
            x = next(x for x in s.lines if x.key == "cbc")
            x.pric = round(self.price("cbc", s.level) * 1.3, 2)
            s.labels.append((label, "血细胞分析收费高于本级限价", ""))
        elif cls == "OVERQTY":
            s = self.pick("pneumonia", "diabetes", "gastritis")
            bed = [x for x in s.lines if x.key == "bed"]
            bed[len(bed) // 2].cnt = 2
            s.labels.append((label, "床位费天数超过住院天数", ""))
        elif cls == "SEX":
            s = self.pick("hernia", "copd")
            s.gend = "1"
            s.lines.append(Line("progesterone", self.at(s, 1, 16), 1))
            s.labels.append((label, "男性患者使用限女性药品", ""))
        elif cls == "AGE":
            s = self.pick("pneumonia", "gastritis")
            s.lines.append(Line("child_iv", self.at(s, 1, 16), 1))
            s.labels.append((label, "成人收取小儿头皮静脉输液", ""))
        elif cls == "LEVEL":
            s = self.stay(rng.choice(["pneumonia", "gastritis"]), hospital=self.hospital([1]))
            s.lines.append(Line("mri_knee", self.at(s, 1, 15), 1))
            s.labels.append((label, "一级医院收取限二级及以上的磁共振", ""))
        elif cls == "INDICATION":
            s = self.pick("pneumonia", "copd")
            s.lines.append(Line("ozagrel", self.at(s, 1, 15), 1))
            s.labels.append((label, "无脑梗死诊断使用限定支付范围的奥扎格雷钠", ""))
        elif cls == "OVERDOSE":
            s = self.pick("pneumonia")
            x = next(x for x in s.lines if x.key == "ceftriaxone")
            x.cnt = 7
            s.labels.append((label, "头孢曲松单日用量超过4支", ""))
        elif cls == "FAKE":
            if rng.random() < 0.5:
                s = self.pick("pneumonia", "copd", "diabetes")
                assert s.dscg is not None
                s.lines.append(Line("levoflox", s.dscg + timedelta(days=1, hours=3), 1))
                s.labels.append((label, "出院后仍有药品收费", ""))
            else:
                a = self.pick("stroke", "copd", "heart_failure")
                b = self.stay(
                    rng.choice(["pneumonia", "gastritis"]),
                    psn=(a.psn, a.gend, a.age),
                    hospital=rng.choice([h for h in self.hospitals if h != a.hospital]),
                    adm=a.adm + timedelta(days=2, hours=3),
                    los=min(4, a.los - 3),
                )
                b.labels.append((label, "在另一机构住院期间虚构住院", a.hospital[0]))
        elif cls == "BEDHANG":
            s = self.pick("stroke", los=rng.randint(11, 14))
            first = rng.randint(3, 5)
            days = range(first, first + rng.randint(3, 4))
            s.lines = [
                x
                for x in s.lines
                if x.key == "bed" or (x.at - s.adm.replace(hour=0, minute=0)).days not in days
            ]
            s.labels.append((label, f"第{first}天起仅收床位费", ""))
        elif cls == "EXCLUSIVE":
            s = self.pick("pneumonia", "gastritis", "diabetes")
            if rng.random() < 0.5:
                s.lines.append(Line("nurse1", self.at(s, 1, 9), 1))
                s.labels.append((label, "同日收取两种护理等级", ""))
            else:
                s.lines.append(Line("bed_single", self.at(s, 1, 9), 1))
                s.labels.append((label, "同日收取两种病房床位费", ""))

    def build(self, stays: int, rate: float) -> None:
        per = stays * rate / len(CLASSES)
        for cls in CLASSES:
            for _ in range(int(per + self.rng.random())):
                self.plant(cls)
        self.background(stays)

    # -- output -----------------------------------------------------------------------------
    def write(self, out: Path, labels_dir: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        (out / "knowledge").mkdir(exist_ok=True)
        labels_dir.mkdir(parents=True, exist_ok=True)
        self.stays.sort(key=lambda s: s.adm)
        medins = [
            {"medins_code": h[0], "medins_name": h[1], "medins_lv": h[2], "medins_type": h[3]}
            for h in self.hospitals
        ]
        _csv(out / "medins.csv", medins)
        hilist = []
        for code, name, ltype, chrg, unit, p1, p2, p3, extra in self.items.values():
            row = {"hilist_code": code, "hilist_name": name, "list_type": ltype}
            row |= {"med_chrgitm_type": chrg, "unit": unit, "chrgitm_lv": "01"}
            row |= {"pric_lv1": p1, "pric_lv2": p2, "pric_lv3": p3, **extra}
            hilist.append(row)
        _csv(out / "hilist.csv", hilist)
        for name, rows in self.knowledge.items():
            _csv(out / "knowledge" / f"{name}.csv", rows)
        setl, diag, oprn, fee, labels = [], [], [], [], []
        for n, s in enumerate(self.stays, 1):
            s.setl_id = f"T{n:08d}"
            mdtrt = f"V{n:08d}"
            amounts = []
            for i, x in enumerate(s.lines, 1):
                code, name, _, chrg = self.items[x.key][:4]
                pric = x.pric if x.pric is not None else self.price(x.key, s.level)
                amt = round(x.cnt * pric, 2)
                amounts.append(amt)
                fee.append(
                    {
                        "feedetl_sn": f"{mdtrt}-{i}",
                        "init_feedetl_sn": (
                            f"{mdtrt}-{x.refund_of + 1}" if x.refund_of is not None else None
                        ),
                        "mdtrt_id": mdtrt,
                        "setl_id": s.setl_id,
                        "fee_ocur_time": x.at.strftime("%Y-%m-%d %H:%M:%S"),
                        "med_list_codg": code,
                        "medins_list_codg": f"H{code[-8:]}",
                        "med_list_name": name,
                        "med_chrgitm_type": chrg,
                        "cnt": x.cnt,
                        "pric": f"{pric:.2f}",
                        "det_item_fee_sumamt": f"{amt:.2f}",
                        "bilg_dept_codg": "A03",
                        "chrgitm_lv": "01",
                        "dscg_tkdrug_flag": "0",
                    }
                )
            total = round(sum(amounts), 2)
            assert s.dscg is not None
            grade = {"nurse1": "lv1_nurscare_days", "nurse2": "scd_nurscare_days"}
            nursing = dict.fromkeys(grade.values(), 0)
            for x in s.lines:
                if x.key in grade:
                    nursing[grade[x.key]] += int(x.cnt)
            setl.append(
                {
                    "setl_id": s.setl_id,
                    "mdtrt_id": mdtrt,
                    "psn_no": s.psn,
                    "medins_code": s.hospital[0],
                    "medcasno": f"B{n:08d}",
                    "gend": s.gend,
                    "brdy": f"{s.adm.year - s.age - 1}-07-01",
                    "age": s.age,
                    "nwb_age_days": 2 if s.age == 0 else None,
                    "insutype": "310" if n % 3 else "390",
                    "adm_way": s.adm_way,
                    "adm_time": s.adm.strftime("%Y-%m-%d %H:%M:%S"),
                    "adm_caty": "A03",
                    "dscg_time": s.dscg.strftime("%Y-%m-%d %H:%M:%S"),
                    "dscg_caty": "A03",
                    "act_ipt_days": s.los,
                    "dscg_way": s.dscg_way,
                    "days_rinp_flag_31": s.flag31,
                    "chfpdr_code": "D001",
                    "medfee_sumamt": f"{total:.2f}",
                    "fund_pay_sumamt": f"{total * 0.7:.2f}",
                    "hi_paymtd": "4",
                    "setl_time": (s.dscg + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
                    **nursing,
                }
            )
            for k, (code, name) in enumerate(s.diags, 1):
                diag.append(
                    {
                        "setl_id": s.setl_id,
                        "diag_srt_no": k,
                        "diag_code": code,
                        "diag_name": name,
                        "maindiag_flag": "1" if k == 1 else "0",
                        "adm_cond_type": "1",
                    }
                )
            if s.oprn:
                o = s.oprn
                oprn.append(
                    {
                        "setl_id": s.setl_id,
                        "oprn_srt_no": 1,
                        "oprn_oprt_code": o["code"],
                        "oprn_oprt_name": o["name"],
                        "main_oprn_flag": "1",
                        "oprn_oprt_date": o["begin"].strftime("%Y-%m-%d"),
                        "oprn_oprt_begntime": o["begin"].strftime("%Y-%m-%d %H:%M:%S"),
                        "oprn_oprt_endtime": o["end"].strftime("%Y-%m-%d %H:%M:%S"),
                        "anst_way": "1",
                        "anst_begntime": o["begin"].strftime("%Y-%m-%d %H:%M:%S"),
                        "anst_endtime": o["end"].strftime("%Y-%m-%d %H:%M:%S"),
                        "oper_dr_code": "D002",
                        "anst_dr_code": "D003",
                    }
                )
            for cls, mechanism, detail in s.labels:
                labels.append(
                    {
                        "setl_id": s.setl_id,
                        "vola_bhvr_type": cls,
                        "mechanism": mechanism,
                        "detail": detail,
                        "amount": "",
                    }
                )
        _csv(out / "setl_list.csv", setl)
        _csv(out / "diseinfo.csv", diag)
        _csv(out / "oprninfo.csv", oprn)
        _csv(out / "feedetail.csv", fee)
        path = labels_dir / "labels.csv"
        _csv(path, labels, ("setl_id", "vola_bhvr_type", "mechanism", "detail", "amount"))
        return path


def _csv(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None) -> None:
    cols: list[str] = list(columns or [])
    for row in rows:
        cols += [c for c in row if c not in cols]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for row in rows:
            w.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in cols})


def generate_region(
    out: Path, labels_dir: Path, *, stays: int, seed: int, rate: float = 0.05
) -> Path:
    """Write an independent region of about ``stays`` settlements to ``out``; returns the
    path of its ``labels.csv``."""
    region = Region(seed)
    region.build(stays, rate)
    return region.write(out, labels_dir)
