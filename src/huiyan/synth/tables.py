"""One month's cases and lines turned into the canonical tables and the labels' rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from huiyan.model.fields import MONEY, QTY
from huiyan.synth.catalog import Catalog
from huiyan.synth.fees import op_times
from huiyan.synth.output import dates, decimal_from_units, int_strings, strings, timestamps
from huiyan.synth.profiles import chemo_secondary, comorbidities, profiles
from huiyan.synth.region import DAY, dscg_s, region_params


def build_tables(
    c, level, hosp, cat: Catalog, lines, keep, labels, extra_dx, offset, year, with_medrcd, rng
) -> dict:
    n = len(c["los"])
    p = region_params()
    ids = offset + np.arange(n)
    setl_id = np.char.add("S", np.char.zfill(ids.astype(str), 11)).astype(object)
    mdtrt_id = np.char.add("M", np.char.zfill(ids.astype(str), 11)).astype(object)
    # Lines: drop removed ones, order by case and time, number within the visit.
    uid = np.arange(len(keep))
    order = np.lexsort((uid, lines["t"], lines["case"]))
    order = order[keep[order]]
    new_pos = np.full(len(keep), -1, dtype=np.int64)
    new_pos[order] = np.arange(len(order))
    case = lines["case"][order]
    starts = np.searchsorted(case, np.arange(n))
    sn = np.arange(len(order)) - starts[case] + 1
    cnt, price = lines["cnt"][order], lines["price"][order]
    amount = cnt * price
    orig = lines["orig"][order]
    init = np.where(orig >= 0, sn[np.maximum(new_pos[np.maximum(orig, 0)], 0)], 0)
    item = lines["item"][order]
    medfee = np.add.reduceat(amount, starts) if len(amount) else np.zeros(n, dtype=np.int64)
    lv_b = cat.column("chrgitm_lv")[item] == "02"
    class_b = np.add.reduceat(np.where(lv_b, amount, 0), starts)
    selfpay = class_b // 10
    ratio = np.where(c["insutype"] == 310, p["fund_ratio"]["310"], p["fund_ratio"]["390"])
    fund = np.floor((medfee - selfpay) * ratio).astype(np.int64)
    cash = medfee - fund
    dept_of = np.array([pr.dept for pr in profiles()], dtype=object)[c["prof"]]
    fee = {
        "feedetl_sn": int_strings(sn),
        "init_feedetl_sn": pa.array(np.where(init > 0, init, 0))
        .cast(pa.string())
        .to_numpy(zero_copy_only=False),
        "mdtrt_id": strings(mdtrt_id[case]),
        "setl_id": strings(setl_id[case]),
        "fee_ocur_time": timestamps(lines["t"][order]),
        "med_list_codg": strings(cat.column("hilist_code")[item]),
        "medins_list_codg": strings(
            np.char.add("YN", cat.column("hilist_code")[item].astype(str)).astype(object)
        ),
        "med_list_name": strings(cat.column("hilist_name")[item]),
        "med_chrgitm_type": strings(cat.column("med_chrgitm_type")[item]),
        "cnt": decimal_from_units(cnt * 10_000, QTY),
        "pric": decimal_from_units(price * 100, QTY),
        "det_item_fee_sumamt": decimal_from_units(amount, MONEY),
        "bilg_dept_codg": strings(dept_of[case]),
        "bilg_dr_codg": strings(_doctor(c)[case]),
        "chrgitm_lv": strings(cat.column("chrgitm_lv")[item]),
    }
    fee["init_feedetl_sn"] = pa.array(
        [None if v == "0" else v for v in fee["init_feedetl_sn"]], type=pa.string()
    )
    tables = {
        "feedetail": fee,
        "setl_list": _setl(
            c, level, hosp, setl_id, mdtrt_id, medfee, fund, cash, selfpay, offset, dept_of
        ),
    }
    dx, px = _dx_px(c, extra_dx, setl_id)
    tables["diseinfo"], tables["oprninfo"] = dx, px
    if with_medrcd:
        tables["medrcd"] = _medrcd(c, hosp, dx, px, setl_id, rng)
    sn_of_uid = np.where(new_pos >= 0, sn[np.maximum(new_pos, 0)], -1)
    amt_of_uid = np.where(new_pos >= 0, amount[np.maximum(new_pos, 0)], 0)
    rows = [_label_row(lab, setl_id, sn_of_uid, amt_of_uid, medfee, fund, c) for lab in labels]
    return {"tables": tables, "labels": rows, "n": n}


def _money(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _label_row(lab, setl_id, sn_of_uid, amt_of_uid, medfee, fund, c) -> tuple[str, ...]:
    if lab.related_case >= 0:
        detail = setl_id[lab.related_case]
    elif lab.codes:
        detail = "|".join(lab.codes)
    else:
        detail = "|".join(str(sn_of_uid[u]) for u in lab.uids)
    if lab.amount_fen is not None:
        amount = int(lab.amount_fen)
    elif lab.amount_rule == "case_cost":
        amount = int(medfee[lab.case])
    elif lab.amount_rule == "fund":
        amount = int(fund[lab.case])
    elif lab.amount_rule == "upcode":
        # Estimate: an MCC DRG pays about half as much again as the case's own group.
        amount = int(medfee[lab.case]) // 2
    elif lab.amount_rule == "undersvc":
        pr = profiles()[c["prof"][lab.case]]
        standard = int(pr.daily_cost * pr.los * 100)
        amount = max(0, standard - int(medfee[lab.case]))
    else:
        amount = int(sum(amt_of_uid[u] for u in lab.uids))
    if lab.cls == "BEDHANG":
        detail = ""
    return (setl_id[lab.case], lab.cls, lab.mechanism, detail, _money(amount))


def _doctor(c) -> np.ndarray:
    return np.char.add(
        np.char.add("D", np.char.zfill(c["hosp"].astype(str), 3)),
        np.char.zfill((c["prof"] % 7).astype(str), 3),
    ).astype(object)


def _setl(c, level, hosp, setl_id, mdtrt_id, medfee, fund, cash, selfpay, offset, dept) -> dict:
    n = len(setl_id)
    adm = c["adm_s"]
    dscg = dscg_s(c)
    admdvs = region_params()["admdvs"]
    person = c["person"] + offset  # unique across monthly batches
    psn_no = np.char.add(admdvs, np.char.zfill(person.astype(str), 10)).astype(object)
    birth = c["birth_day"].astype("datetime64[D]").astype(str)
    # Resident ID (GB 11643): 6-digit division, 8-digit birth date, 3-digit sequence, check digit.
    certno = np.char.add(
        np.char.add(admdvs, np.char.replace(birth, "-", "")),
        np.char.zfill((person % 10000).astype(str), 4),
    )
    los = c["los"]
    nurse = c["nurse"]
    doctor = _doctor(c)
    out = {
        "setl_id": strings(setl_id),
        "mdtrt_id": strings(mdtrt_id),
        "psn_no": strings(psn_no),
        "medins_code": strings(hosp.code[c["hosp"]]),
        "medcasno": strings(np.char.add("BA", setl_id.astype(str)).astype(object)),
        "psn_name": strings(
            np.char.add("患者", np.char.zfill((person % 100000).astype(str), 5)).astype(object)
        ),
        "gend": int_strings(c["sex"]),
        "brdy": dates(c["birth_day"]),
        "age": pa.array(c["age"], pa.int32()),
        "ntly": strings(["CHN"] * n),
        "naty": strings(["01"] * n),
        "patn_cert_type": strings(["01"] * n),
        "certno": strings(certno.astype(object)),
        "hi_no": strings(psn_no),
        "insutype": int_strings(c["insutype"]),
        "insuplc": strings([admdvs] * n),
        "med_type": strings(["21"] * n),
        "trt_type": strings(["1"] * n),
        "adm_way": int_strings(c["adm_way"]),
        "adm_time": timestamps(adm),
        "adm_caty": strings(dept),
        "dscg_time": timestamps(dscg),
        "dscg_caty": strings(dept),
        "act_ipt_days": pa.array(los, pa.int32()),
        "spga_nurscare_days": pa.array(np.zeros(n), pa.int32()),
        "lv1_nurscare_days": pa.array(np.where(nurse == 1, los, 0), pa.int32()),
        "scd_nurscare_days": pa.array(np.where(nurse == 2, los, 0), pa.int32()),
        "lv3_nurscare_days": pa.array(np.where(nurse == 3, los, 0), pa.int32()),
        "dscg_way": int_strings(c["dscg_way"]),
        "days_rinp_flag_31": int_strings(c["flag31"]),
        "days_rinp_pup_31": strings(
            np.where(c["flag31"] == 2, "按计划化疗", np.full(n, None, object)).astype(object)
        ),
        "chfpdr_code": strings(doctor),
        "chfpdr_name": strings(np.char.add("医师", doctor.astype(str)).astype(object)),
        "resp_nurs_code": strings(np.char.replace(doctor.astype(str), "D", "N").astype(object)),
        "resp_nurs_name": strings(np.char.add("护士", doctor.astype(str)).astype(object)),
        "bill_code": strings(["44030125"] * n),
        "bill_no": strings(np.char.zfill(setl_id.astype(str), 12).astype(object)),
        "biz_sn": strings(np.char.add("Y", setl_id.astype(str)).astype(object)),
        "medfee_sumamt": decimal_from_units(medfee, MONEY),
        "fund_pay_sumamt": decimal_from_units(fund, MONEY),
        "hifp_pay": decimal_from_units(fund, MONEY),
        "acct_pay": decimal_from_units(np.zeros(n, np.int64), MONEY),
        "psn_cashpay": decimal_from_units(cash, MONEY),
        "ownpay_amt": decimal_from_units(np.zeros(n, np.int64), MONEY),
        "selfpay_amt": decimal_from_units(selfpay, MONEY),
        "hi_paymtd": strings(["4"] * n),
        "setl_begn_date": dates(adm // DAY),
        "setl_end_date": dates(dscg // DAY),
        "setl_time": timestamps(dscg + 1800),
        "medins_fill_dept": strings(["医保办"] * n),
        "medins_fill_psn": strings(["医保办经办人"] * n),
        "out_setl_flag": strings(["2"] * n),
    }
    tr = c["dscg_way"] == 2
    out["acp_medins_name"] = pa.array(
        np.where(tr, "上级医院", np.full(n, None, object)).tolist(), pa.string()
    )
    return out


def _dx_px(c, extra_dx, setl_id) -> tuple[dict, dict]:
    ps = profiles()
    cms = comorbidities()
    from huiyan.kb.dictionaries import diagnoses, procedures

    names = diagnoses()
    rows_s, rows_no, rows_code = [], [], []
    for i in range(len(setl_id)):
        pr = ps[c["prof"][i]]
        codes_ = [pr.pdx]
        if pr.kind == "chemo":
            codes_.append(chemo_secondary())
        codes_ += [cms[j]["code"] for j in np.flatnonzero(c["cm"][i])]
        codes_ += extra_dx.get(i, [])
        for k, code in enumerate(codes_):
            rows_s.append(setl_id[i])
            rows_no.append(k + 1)
            rows_code.append(code)
    m = len(rows_s)
    no = np.array(rows_no)
    dx = {
        "setl_id": strings(rows_s),
        "diag_srt_no": pa.array(no, pa.int32()),
        "diag_code": strings(rows_code),
        "diag_name": strings([names.get(x, x) for x in rows_code]),
        "maindiag_flag": strings(np.where(no == 1, "1", "0").tolist()),
        "diag_type": strings(["1"] * m),
        "adm_cond_type": strings(np.where(no == 1, "1", "3").tolist()),
    }
    surg = np.flatnonzero(np.array([p.oprn is not None for p in ps])[c["prof"]])
    day, begin, end = op_times(c)
    oprn = [ps[c["prof"][i]].oprn for i in surg]
    pnames = procedures()
    k = len(surg)
    doctor = _doctor(c)
    px = {
        "setl_id": strings(list(setl_id[surg])),
        "oprn_srt_no": pa.array(np.ones(k), pa.int32()),
        "oprn_oprt_code": strings(oprn),
        "oprn_oprt_name": strings([pnames.get(x, x) for x in oprn]),
        "main_oprn_flag": strings(["1"] * k),
        "oprn_oprt_date": dates(begin[surg] // DAY),
        "oprn_oprt_begntime": timestamps(begin[surg]),
        "oprn_oprt_endtime": timestamps(end[surg]),
        "anst_way": strings(["1"] * k),  # WS 364.12 CV06.00.103: 1 全身麻醉
        "anst_begntime": timestamps(begin[surg] - 900),
        "anst_endtime": timestamps(end[surg]),
        "oper_dr_code": strings(list(doctor[surg])),
        "anst_dr_code": strings(list(np.char.replace(doctor[surg].astype(str), "D", "A"))),
    }
    return dx, px


def _medrcd(c, hosp, dx, px, setl_id, rng) -> dict:
    """Front pages: copies of the settlement list's codes; a few differ (re-sequenced or a
    secondary diagnosis the coder left off) — coding-quality findings, not violations."""
    medcasno_of = {s: "BA" + s for s in setl_id}
    d_s = dx["setl_id"].to_pylist()
    n = len(d_s)
    flip = rng.random(n) < region_params()["legit"]["medrcd_discrepancy"]
    no = dx["diag_srt_no"].to_numpy()
    keep = ~(flip & (no > 1))
    cond = np.array(dx["adm_cond_type"].to_pylist(), dtype=object)
    cond[flip & (no == 1)] = "2"
    p_s = px["setl_id"].to_pylist()
    hosp_of = dict(zip(setl_id, hosp.code[c["hosp"]], strict=True))
    dway = dict(zip(setl_id, c["dscg_way"].astype(str), strict=True))
    sel = np.flatnonzero(keep)
    rows = {
        "medcasno": [medcasno_of[d_s[i]] for i in sel] + [medcasno_of[s] for s in p_s],
        "medins_code": [hosp_of[d_s[i]] for i in sel] + [hosp_of[s] for s in p_s],
        "rec_type": ["diag"] * len(sel) + ["oprn"] * len(p_s),
        "srt_no": list(no[sel]) + [1] * len(p_s),
        "code": [dx["diag_code"][i].as_py() for i in sel] + px["oprn_oprt_code"].to_pylist(),
        "name": [dx["diag_name"][i].as_py() for i in sel] + px["oprn_oprt_name"].to_pylist(),
        "main_flag": [dx["maindiag_flag"][i].as_py() for i in sel] + ["1"] * len(p_s),
        "adm_cond_type": list(cond[sel]) + [None] * len(p_s),
        "dscg_way": [dway[d_s[i]] for i in sel] + [dway[s] for s in p_s],
    }
    return {
        k: pa.array(v, type=pa.int32() if k == "srt_no" else pa.string()) for k, v in rows.items()
    }
