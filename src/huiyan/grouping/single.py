"""The single-case path: one case, its result and a Chinese trace of every decision.

Uses the same compiled scheme and the scalar twin of each condition atom
(``conditions.evaluate_one``), so it agrees with the batch path case for case.
"""

from __future__ import annotations

import math

import numpy as np

from huiyan.grouping import checks
from huiyan.grouping.cases import Case
from huiyan.grouping.compiled import CompiledScheme, compile_scheme
from huiyan.grouping.conditions import CaseView, describe, evaluate_one
from huiyan.grouping.mapping import finish, translate
from huiyan.grouping.result import GroupResult, classify, rejected
from huiyan.model.enums import label

_NAN = float("nan")


def _f(v: int | None) -> float:
    return _NAN if v is None else float(v)


def _complications(dx: list[str], cs: CompiledScheme, trace: list[str] | None) -> tuple[bool, bool]:
    """(has_mcc, has_cc) with one trace line per secondary diagnosis in the MCC/CC tables."""
    principal_table = int(cs.excl_table[cs.ids.get(dx[0], cs.unknown)]) if dx else -1
    found = {"MCC": False, "CC": False}
    for code in dx[1:]:
        cid = cs.ids.get(code, cs.unknown)
        for kind, table in (("MCC", cs.mcc_table), ("CC", cs.cc_table)):
            own = int(table[cid])
            if own < 0:
                continue
            if own == principal_table:
                if trace is not None:
                    trace.append(
                        f"次要诊断 {code} 属于{kind}表,但与主要诊断 {dx[0]} 在同一排除表中,被排除"
                    )
                continue
            found[kind] = True
            if trace is not None:
                trace.append(f"次要诊断 {code} 计为{kind}")
    return found["MCC"], found["CC"]


def _prepare(
    case: Case, cs: CompiledScheme, mode: str, checked: bool, trace: list[str]
) -> tuple[CaseView | None, str]:
    dx, px = list(case.diagnoses) or [""], list(case.procedures)
    zd_fail = ss_fail = False
    if mode == "mapped":
        mdx = translate(dx, cs.mapping("diagnosis_map"))
        mdx = finish(mdx, principal=True) if mdx is not None else None
        mpx = translate(px, cs.mapping("procedure_map"))
        mpx = finish(mpx, principal=False) if mpx is not None else None
        zd_fail, ss_fail = mdx is None, mpx is None and mdx is not None
        for before, after, kind in ((dx, mdx, "诊断"), (px, mpx, "手术操作")):
            if after is not None and before != after:
                trace.append(f"{kind}编码转换: {'|'.join(before)} → {'|'.join(after)}")
        dx, px = mdx or [], mpx or []
    gender = "" if case.gender is None else case.gender
    num = {
        "age": _f(case.age),
        "age_days": _f(case.age_days),
        "birth_weight": _f(case.birth_weight),
    }
    general, newborn_missing, zero_weight = checks.validation(
        np.array([gender], dtype=object),
        {k: np.array([v]) for k, v in num.items()},
        np.array([len(dx)]),
        cs,
        mapped=mode == "mapped",
    )
    gcodes = cs.scheme.logic["input"]["gender_codes"]
    no = np.zeros(1, dtype=bool)
    flags = checks.Flags(
        zd_not_mapping=np.array([zd_fail]),
        ss_not_mapping=np.array([ss_fail]),
        general=general,
        newborn_missing=newborn_missing,
        newborn_zero_weight=zero_weight,
        zd_not_valid=no,
        ss_not_valid=no,
        zd_not_principal=no,
        zd_not_match_gender=no,
    )
    if checked:
        ids = [cs.ids.get(c, cs.unknown) for c in dx]
        flags.zd_not_valid = np.array([not all(cs.in_diagnoses[i] for i in ids)])
        flags.ss_not_valid = np.array(
            [not all(cs.in_procedures[cs.ids.get(c, cs.unknown)] for c in px)]
        )
        flags.zd_not_principal = np.array([bool(dx) and checks.manifestation_only(dx[0])])
        wrong = any(
            bool(dx)
            and dx[0] in cs.code_set(name)
            and gender in (gcodes["M"], gcodes["F"])
            and gender != need
            for name, need in checks.gender_restricted_lists(cs)
        )
        flags.zd_not_match_gender = np.array([wrong])
    status = str(checks.first_status(flags, checked=checked)[0])
    if status:
        return None, status
    bw = num["birth_weight"]
    view_num: dict[str, float | None] = {
        "age": case.age,
        "age_days": case.age_days,
        "birth_weight": None if math.isnan(bw) or bw == 0 else bw,
        "los": case.los,
    }
    text = {
        "dept": None if case.dept is None else str(case.dept),
        "discharge_way": None if case.discharge_way is None else str(case.discharge_way),
    }
    view = CaseView(
        dx=dx, px=px, gender=gender, num=view_num, has_mcc=False, has_cc=False, text=text
    )
    view.has_mcc, view.has_cc = _complications(dx, cs, trace)
    return view, ""


def group_case(case: Case, scheme: str, *, mode: str = "raw", checked: bool = False) -> GroupResult:
    """Group one case; ``result.trace`` says, in Chinese, why it got its group."""
    cs = compile_scheme(scheme)
    trace: list[str] = [f"分组方案 {scheme},{'编码转换' if mode == 'mapped' else '原始编码'}模式"]
    view, status = _prepare(case, cs, mode, checked, trace)
    results = cs.scheme.logic.get("results")
    if view is None:
        trace.append(f"输入校验未通过: {status}({label('group_status', status)})")
        return GroupResult(case.case_id, status, *rejected(results), trace=trace)
    code = _walk(view, cs, trace)
    if code == "0000" and cs.scheme.logic.get("retry_on_fail") and len(view.px) > 1:
        code = _retry(view, cs, trace)
    st, mdc, adrg, drg = classify(code, results)
    name = cs.drg_name(drg)
    trace.append(
        f"结果: {st}({label('group_status', st)}) {mdc} / {adrg} / {drg}"
        + (f" {name}" if name else "")
    )
    return GroupResult(case.case_id, st, mdc, adrg, drg, view.has_mcc, view.has_cc, trace, name)


def _retry(c: CaseView, cs: CompiledScheme, trace: list[str]) -> str:
    """``retry_on_fail``: each secondary procedure in turn as the only procedure."""
    for code in c.px[1:]:
        trace.append(f"未入组,以次要手术操作 {code} 作为唯一手术操作重新分组")
        one = CaseView(
            dx=c.dx,
            px=[code],
            gender=c.gender,
            num=c.num,
            has_mcc=c.has_mcc,
            has_cc=c.has_cc,
            text=c.text,
        )
        got = _walk(one, cs, trace)
        if got != "0000":
            return got
    return "0000"


def _walk(c: CaseView, cs: CompiledScheme, trace: list[str]) -> str:
    """The MDC loop of README §3, recording each decision that mattered."""
    for mdc in cs.scheme.logic["mdcs"]:
        if not evaluate_one(mdc["entry"], c, cs):
            continue
        trace.append(f"进入 {mdc['code']}({mdc['name']}): {describe(mdc['entry'])}")
        for step in mdc["steps"]:
            if not evaluate_one(step["condition"], c, cs):
                continue
            if step["type"] == "ambiguity":
                trace.append(f"歧义组 {step['code']}: {describe(step['condition'])}")
                return str(step["code"])
            trace.append(f"ADRG {step['code']}(规则 {step['rule']}): {describe(step['condition'])}")
            for drg in step["drgs"]:
                if evaluate_one(drg["condition"], c, cs):
                    trace.append(f"DRG {drg['code']}: {describe(drg['condition'])}")
                    return str(drg["code"])
            if step.get("fallback"):
                trace.append(f"无DRG细分条件成立,取ADRG {step['fallback']}")
                return str(step["fallback"])
            trace.append(f"ADRG {step['code']} 无DRG细分条件成立,继续下一规则")
        trace.append(f"{mdc['code']} 内无ADRG规则成立,继续下一MDC")
    trace.append("未进入任何可入组的MDC/ADRG,无法入组")
    return "0000"
