"""The 3101/3102 request shape mapped onto the canonical tables (docs/design.md §3, §6).

``data.patient_dtos[]`` → ``fsi_encounter_dtos[]`` → one ``setl_list`` row per encounter with
its ``fsi_diagnose_dtos`` (``diseinfo``), ``fsi_order_dtos`` (``feedetail``) and
``fsi_operation_dtos`` (``oprninfo``). Names of the national message are translated by
``MESSAGE_NAMES`` and the canonical tables' own aliases; a canonical column name is accepted
as itself (so fields 3101 lacks, e.g. ``dscg_way``, can be sent). Every value is checked against
its column's type; problems are collected as ``Problem`` (path, Chinese message), never raised
as tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from huiyan.model.tables import table

# 3101 message names that differ from the canonical ones (and from the tables' aliases).
MESSAGE_NAMES: dict[str, dict[str, str]] = {
    "patient": {"patn_id": "psn_no", "patn_name": "psn_name"},
    "setl_list": {
        "adm_date": "adm_time",
        "dscg_date": "dscg_time",
        "adm_dept_codg": "adm_caty",
        "dscg_dept_codg": "dscg_caty",
        "dr_codg": "chfpdr_code",
        "hifp_payamt": "hifp_pay",
        "acct_payamt": "acct_pay",
    },
    "diseinfo": {
        "dise_codg": "diag_code",
        "dise_name": "diag_name",
        "maindise_flag": "maindiag_flag",
        "dias_srt_no": "diag_srt_no",
    },
    "feedetail": {
        "rx_id": "feedetl_sn",
        "rxno": "drord_no",
        "drord_begn_date": "fee_ocur_time",
        "drord_dept_codg": "bilg_dept_codg",
        "drord_dr_codg": "bilg_dr_codg",
    },
    "oprninfo": {
        "oprn_code": "oprn_oprt_code",
        "oprn_name": "oprn_oprt_name",
        "main_oprn": "main_oprn_flag",
        "oprn_date": "oprn_oprt_begntime",
    },
}
CHILDREN = {
    "fsi_diagnose_dtos": "diseinfo",
    "fsi_order_dtos": "feedetail",
    "fsi_operation_dtos": "oprninfo",
}
# Required in the message (on top of the tables' own required columns the mapping fills).
REQUIRED = {
    "patient": ("patn_id",),
    "setl_list": ("mdtrt_id", "medins_id", "adm_date"),
    "diseinfo": ("dise_codg",),
    "feedetail": ("rx_id", "hilist_code", "cnt", "pric", "sumamt", "drord_begn_date"),
    "oprninfo": ("oprn_oprt_code",),
}
_REQUIRED_CANON = {
    "patient": {"psn_no": "patn_id"},
    "setl_list": {"mdtrt_id": "mdtrt_id", "medins_code": "medins_id", "adm_time": "adm_date"},
    "diseinfo": {"diag_code": "dise_codg"},
    "feedetail": {
        "feedetl_sn": "rx_id",
        "med_list_codg": "hilist_code",
        "cnt": "cnt",
        "pric": "pric",
        "det_item_fee_sumamt": "sumamt",
        "fee_ocur_time": "drord_begn_date",
    },
    "oprninfo": {"oprn_oprt_code": "oprn_oprt_code"},
}
# Message fields with a meaning but no column of their own (used by ``_fill``).
_SPECIAL = {"inout_dise_type": "_inout", "drord_bhvr": "_drord_bhvr"}
MAX_ENCOUNTERS = 50
MAX_LINES = 5000


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


class MessageError(Exception):
    """A request that cannot be audited: its problems in the 3101 error shape."""

    def __init__(self, problems: list[Problem], status: int = 400) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems
        self.status = status


def _names(kind: str) -> dict[str, str]:
    """Message name → canonical column for ``kind`` (a table name, or ``patient``)."""
    spec = table("setl_list" if kind == "patient" else kind)
    out: dict[str, str] = {}
    for f in spec.fields:
        out[f.name] = f.name
        for a in f.aliases:
            out[a] = f.name
    out.update(MESSAGE_NAMES.get(kind, {}))
    return out


_NAMES = {k: _names(k) for k in ("patient", "setl_list", "diseinfo", "feedetail", "oprninfo")}
_TYPES = {
    k: {f.name: f.type for f in table(k).fields}
    for k in ("setl_list", "diseinfo", "feedetail", "oprninfo")
}


def _value(v: Any, typ: pa.DataType, path: str, problems: list[Problem]) -> Any:
    """``v`` as a Python value of Arrow type ``typ`` (None and a problem when it is not one)."""
    if v is None or v == "":
        return None
    try:
        if pa.types.is_string(typ):
            if isinstance(v, (dict, list, bool)):
                raise TypeError
            return str(v)
        if pa.types.is_timestamp(typ):
            if not isinstance(v, str):
                raise TypeError
            return datetime.fromisoformat(v.replace("T", " ")).replace(tzinfo=None)
        if pa.types.is_date(typ):
            if not isinstance(v, str):
                raise TypeError
            return date.fromisoformat(v[:10])
        if pa.types.is_decimal(typ):
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise TypeError
            d = Decimal(str(v))
            if not d.is_finite():
                raise ValueError
            q = d.quantize(Decimal(1).scaleb(-typ.scale))
            if q != d:
                raise ValueError
            return q
        if pa.types.is_integer(typ):
            if isinstance(v, bool) or not isinstance(v, (int, str)):
                raise TypeError
            return int(v)
        if pa.types.is_floating(typ):
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise TypeError
            return float(v)
    except (TypeError, ValueError, InvalidOperation):
        problems.append(Problem(path, f"类型或格式错误: {v!r} 不是有效的{_TYPE_LABEL(typ)}"))
        return None
    return v


def _TYPE_LABEL(typ: pa.DataType) -> str:  # noqa: N802 - reads as a label table
    if pa.types.is_timestamp(typ):
        return "时间(YYYY-MM-DD HH:MM:SS)"
    if pa.types.is_date(typ):
        return "日期(YYYY-MM-DD)"
    if pa.types.is_decimal(typ):
        return f"数值(最多{typ.scale}位小数)"
    if pa.types.is_integer(typ):
        return "整数"
    if pa.types.is_floating(typ):
        return "数值"
    return "文本"


def _record(
    kind: str, dto: Any, path: str, problems: list[Problem], into: str | None = None
) -> dict[str, Any]:
    """The canonical row of one dto (unknown keys ignored, known ones typed)."""
    if not isinstance(dto, dict):
        problems.append(Problem(path, "应为对象"))
        return {}
    names = _NAMES[kind]
    types = _TYPES[into or kind]
    row: dict[str, Any] = {}
    for key, v in dto.items():
        if key in _SPECIAL:
            row[_SPECIAL[key]] = None if v is None else str(v)
            continue
        col = names.get(key)
        if col is None or col not in types or isinstance(v, list) and key in CHILDREN:
            continue
        row[col] = _value(v, types[col], f"{path}.{key}", problems)
    for col, msg_name in _REQUIRED_CANON[kind].items():
        if row.get(col) is None and not any(
            p.path.startswith(f"{path}.") and p.path.endswith(msg_name) for p in problems
        ):
            problems.append(Problem(f"{path}.{msg_name}", "缺少必填字段"))
    return row


def _list(parent: dict[str, Any], key: str, path: str, problems: list[Problem]) -> list[Any]:
    v = parent.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        problems.append(Problem(f"{path}.{key}", "应为数组"))
        return []
    return v


@dataclass
class Encounter:
    """One encounter of a request: its canonical rows and where it came from."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    medins_code: str
    tables: dict[str, list[dict[str, Any]]]


@dataclass
class Request:
    encounters: list[Encounter]
    rule_ids: list[str] | None
    trig_scen: str | None


def parse(body: Any) -> Request:
    """The encounters of a 3101/3102 request body; ``MessageError`` listing every problem."""
    problems: list[Problem] = []
    if not isinstance(body, dict):
        raise MessageError([Problem("$", "请求体应为 JSON 对象")])
    data = body.get("data", body.get("input"))
    if not isinstance(data, dict):
        raise MessageError([Problem("data", "缺少 data 对象")])
    patients = _list(data, "patient_dtos", "data", problems)
    if not patients and not problems:
        problems.append(Problem("data.patient_dtos", "缺少必填字段(至少一名患者)"))
    rule_ids = data.get("rule_ids")
    if rule_ids is not None and (
        not isinstance(rule_ids, list) or not all(isinstance(r, str) for r in rule_ids)
    ):
        problems.append(Problem("data.rule_ids", "应为规则编号数组"))
        rule_ids = None
    encounters: list[Encounter] = []
    lines = 0
    for i, patient in enumerate(patients):
        ppath = f"data.patient_dtos[{i}]"
        prow = _record("patient", patient, ppath, problems, into="setl_list")
        if not isinstance(patient, dict):
            continue
        for j, enc in enumerate(_list(patient, "fsi_encounter_dtos", ppath, problems)):
            epath = f"{ppath}.fsi_encounter_dtos[{j}]"
            erow = _record("setl_list", enc, epath, problems)
            if not isinstance(enc, dict):
                continue
            setl = {**prow, **erow}
            setl.setdefault("setl_id", setl.get("mdtrt_id"))
            rows: dict[str, list[dict[str, Any]]] = {"setl_list": [setl]}
            for key, kind in CHILDREN.items():
                items = _list(enc, key, epath, problems)
                lines += len(items)
                rows[kind] = [
                    _record(kind, item, f"{epath}.{key}[{k}]", problems)
                    for k, item in enumerate(items)
                ]
            _fill(rows, setl)
            encounters.append(
                Encounter(
                    setl_id=str(setl.get("setl_id") or ""),
                    mdtrt_id=str(setl.get("mdtrt_id") or ""),
                    psn_no=str(setl.get("psn_no") or ""),
                    medins_code=str(setl.get("medins_code") or ""),
                    tables=rows,
                )
            )
    if not encounters and not problems:
        problems.append(Problem("data.patient_dtos[].fsi_encounter_dtos", "缺少就诊信息"))
    if len(encounters) > MAX_ENCOUNTERS or lines > MAX_LINES:
        problems.append(
            Problem("data", f"单次请求最多 {MAX_ENCOUNTERS} 次就诊、{MAX_LINES} 条明细")
        )
        raise MessageError(problems, status=413)
    if problems:
        raise MessageError(problems)
    return Request(encounters, rule_ids, _str(data.get("trig_scen")))


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _fill(rows: dict[str, list[dict[str, Any]]], setl: dict[str, Any]) -> None:
    """Keys and conventions the message leaves implicit (what ingest derives for files)."""
    sid, mid = setl.get("setl_id"), setl.get("mdtrt_id")
    diags = rows["diseinfo"]
    # 3101 sends admission (1) and discharge (2) diagnoses; the settlement keeps the latter.
    if any(d.get("_inout") == "2" for d in diags):
        rows["diseinfo"] = diags = [d for d in diags if d.get("_inout") == "2"]
    for n, d in enumerate(diags, start=1):
        d["setl_id"] = sid
        d.setdefault("diag_srt_no", n)
    if diags and not any(d.get("maindiag_flag") == "1" for d in diags):
        first = min(diags, key=lambda d: d.get("diag_srt_no") or 0)
        first["maindiag_flag"] = "1"
    for n, o in enumerate(rows["oprninfo"], start=1):
        o["setl_id"] = sid
        o.setdefault("oprn_srt_no", n)
    for f in rows["feedetail"]:
        f["mdtrt_id"] = mid
        f["setl_id"] = sid
        bhvr = f.pop("_drord_bhvr", None)
        if bhvr is not None and f.get("dscg_tkdrug_flag") is None:
            f["dscg_tkdrug_flag"] = "1" if bhvr == "1" else "0"


def to_arrow(encounters: list[Encounter]) -> dict[str, pa.Table]:
    """The encounters' canonical tables as Arrow (every canonical column, types canonical).

    Built column by column in the canonical schema (absent columns as nulls) rather than
    conformed afterwards: ``conform`` cost ~7 ms of a request's ~9 ms here (measured).
    """
    out: dict[str, pa.Table] = {}
    for name in ("setl_list", "diseinfo", "oprninfo", "feedetail"):
        schema = _schema(name)
        rows = [r for e in encounters for r in e.tables.get(name, [])]
        present = {c for r in rows for c in r}
        n = len(rows)
        arrays = [
            pa.array([r.get(f.name) for r in rows], f.type)
            if f.name in present
            else pa.nulls(n, f.type)
            for f in schema
        ]
        out[name] = pa.Table.from_arrays(arrays, schema=schema)
    return out


_SCHEMAS: dict[str, pa.Schema] = {}


def _schema(name: str) -> pa.Schema:
    if name not in _SCHEMAS:
        _SCHEMAS[name] = table(name).arrow_schema()
    return _SCHEMAS[name]


def _out(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def to_message(
    setl: dict[str, Any],
    diags: list[dict[str, Any]],
    oprns: list[dict[str, Any]],
    fees: list[dict[str, Any]],
) -> dict[str, Any]:
    """A 3101 request for one stored encounter (canonical rows → message; the inverse of
    ``parse``): message names where 3101 has them, canonical names for the rest."""

    def rename(row: dict[str, Any], kind: str) -> dict[str, Any]:
        back = {canon: msg for msg, canon in MESSAGE_NAMES.get(kind, {}).items()}
        back.update(_REQUIRED_CANON[kind])
        return {back.get(k, k): _out(v) for k, v in row.items() if v is not None}

    enc = rename({k: v for k, v in setl.items() if k != "psn_no"}, "setl_list")
    enc["fsi_diagnose_dtos"] = [rename(d, "diseinfo") for d in diags]
    enc["fsi_order_dtos"] = [rename(f, "feedetail") for f in fees]
    enc["fsi_operation_dtos"] = [rename(o, "oprninfo") for o in oprns]
    return {
        "data": {
            "trig_scen": "5",
            "patient_dtos": [{"patn_id": setl["psn_no"], "fsi_encounter_dtos": [enc]}],
        }
    }


def unknown_codes(encounters: list[Encounter], codes: dict[str, frozenset[str]]) -> list[Problem]:
    """Codes absent from the dictionaries (``Knowledge`` codes): one problem per code and path."""
    checks = (
        ("diseinfo", "diag_code", "diag", "fsi_diagnose_dtos", "dise_codg", "诊断编码"),
        (
            "oprninfo",
            "oprn_oprt_code",
            "oprn",
            "fsi_operation_dtos",
            "oprn_oprt_code",
            "手术操作编码",
        ),
        ("feedetail", "med_list_codg", "hilist", "fsi_order_dtos", "hilist_code", "医保目录编码"),
    )
    problems = []
    for i, enc in enumerate(encounters):
        for name, col, kind, dto, field_name, what in checks:
            known = codes.get(kind)
            if not known:
                continue
            for k, row in enumerate(enc.tables.get(name, [])):
                code = row.get(col)
                if code is not None and code not in known:
                    problems.append(
                        Problem(f"encounter[{i}].{dto}[{k}].{field_name}", f"未知的{what}: {code}")
                    )
    return problems
