"""The 3101/3102 request shape mapped onto the canonical tables (docs/design.md §3, §6).

``data.patient_dtos[]`` → ``fsi_encounter_dtos[]`` → one ``setl_list`` row per encounter with
its ``fsi_diagnose_dtos`` (``diseinfo``), ``fsi_order_dtos`` (``feedetail``) and
``fsi_operation_dtos`` (``oprninfo``). Names of the national message are translated by
``MESSAGE_NAMES`` and the canonical tables' own aliases; a canonical column name is accepted
as itself (so fields 3101 lacks, e.g. ``dscg_way``, can be sent). Every value is checked against
its column's type; problems are collected as ``Problem`` (path, Chinese message), never raised
as tracebacks.

The audit reads a message with ``read``: a fast path that builds the Arrow tables straight from
the order lines' values as sent (``_fast``), falling back to ``parse`` + ``to_arrow`` for any
message it is not sure to read exactly as they do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

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
        return _converter(typ)(v)
    except (TypeError, ValueError, InvalidOperation):
        problems.append(_type_problem(path, v, _TYPE_LABEL(typ)))
        return None


def _type_problem(path: str, v: Any, label: str) -> Problem:
    return Problem(path, f"类型或格式错误: {v!r} 不是有效的{label}")


def _as_text(v: Any) -> str:
    if isinstance(v, (dict, list, bool)):
        raise TypeError
    return str(v)


def _as_timestamp(v: Any) -> datetime:
    if not isinstance(v, str):
        raise TypeError
    return datetime.fromisoformat(v.replace("T", " ")).replace(tzinfo=None)


def _as_date(v: Any) -> date:
    if not isinstance(v, str):
        raise TypeError
    return date.fromisoformat(v[:10])


def _as_integer(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise TypeError
    return int(v)


def _as_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise TypeError
    return float(v)


def _as_decimal(scale: int) -> Callable[[Any], Decimal]:
    step = Decimal(1).scaleb(-scale)

    def convert(v: Any) -> Decimal:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise TypeError
        d = Decimal(str(v))
        if not d.is_finite():
            raise ValueError
        q = d.quantize(step)
        if q != d:
            raise ValueError
        return q

    return convert


@cache
def _converter(typ: pa.DataType) -> Callable[[Any], Any]:
    """How a sent value (not null, not "") becomes a value of ``typ``: raises TypeError,
    ValueError or InvalidOperation when it is not one. Chosen once a type: testing the type
    for every value was a third of ``parse``'s time (~900 values a message)."""
    if pa.types.is_string(typ):
        return _as_text
    if pa.types.is_timestamp(typ):
        return _as_timestamp
    if pa.types.is_date(typ):
        return _as_date
    if pa.types.is_decimal(typ):
        return _as_decimal(typ.scale)
    if pa.types.is_integer(typ):
        return _as_integer
    if pa.types.is_floating(typ):
        return _as_float
    return lambda v: v


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


class _Slot(NamedTuple):
    """Where a message key of a dto goes: its column and how its value is read."""

    column: str
    arrow_type: pa.DataType | None  # None: a special key (``_SPECIAL``), kept as text
    convert: Callable[[Any], Any] | None
    label: str  # the column's type, as a problem names it
    child: bool  # a child list's key: a list under it is not a value of the column
    kept: type | None  # a value of exactly this Python type is its own conversion (str, int)


# Values of these Python types are their own conversion (``str(text)``, ``int(integer)``).
_KEPT_AS_SENT: dict[Callable[[Any], Any], type] = {_as_text: str, _as_integer: int}


@cache
def _slots(kind: str, into: str | None) -> dict[str, _Slot]:
    """Message key -> slot, for each key of a ``kind`` dto that names a column of the table
    (``into``, else ``kind``; special keys by their marker column). Unknown keys are absent."""
    names, types = _NAMES[kind], _TYPES[into or kind]
    out = {key: _Slot(col, None, None, "", False, None) for key, col in _SPECIAL.items()}
    for key, col in names.items():
        if key not in _SPECIAL and col in types:
            typ = types[col]
            convert = _converter(typ)
            kept = _KEPT_AS_SENT.get(convert)
            out[key] = _Slot(col, typ, convert, _TYPE_LABEL(typ), key in CHILDREN, kept)
    return out


def _known(kind: str, dto: dict[str, Any], into: str | None) -> Iterator[tuple[str, _Slot, Any]]:
    """(message key, slot, value) of each key of ``dto`` that names a column of the table
    (special keys by their marker column); unknown keys and child lists are skipped."""
    slots = _slots(kind, into)
    for key, v in dto.items():
        slot = slots.get(key)
        if slot is None or slot.child and isinstance(v, list):
            continue
        yield key, slot, v


def _record(
    kind: str, dto: Any, path: str, problems: list[Problem], into: str | None = None
) -> dict[str, Any]:
    """The canonical row of one dto (unknown keys ignored, known ones typed)."""
    if not isinstance(dto, dict):
        problems.append(Problem(path, "应为对象"))
        return {}
    slots = _slots(kind, into)
    row: dict[str, Any] = {}
    # ``_known`` and ``_value`` inlined: this loop reads every value of a message.
    for key, v in dto.items():
        slot = slots.get(key)
        if slot is None:
            continue
        col, convert = slot.column, slot.convert
        if type(v) is slot.kept and v != "":
            row[col] = v
        elif convert is None:
            row[col] = None if v is None else str(v)
        elif v is None or v == "":
            row[col] = None
        elif slot.child and isinstance(v, list):
            continue
        else:
            try:
                row[col] = convert(v)
            except (TypeError, ValueError, InvalidOperation):
                problems.append(_type_problem(f"{path}.{key}", v, slot.label))
                row[col] = None
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
    """One encounter of a request: its canonical rows and where it came from.

    An encounter read by the fast path (``read``) has no rows (``tables`` is empty): they exist
    only in the request's Arrow tables, at ``spans`` (table -> start, stop).
    """

    setl_id: str
    mdtrt_id: str
    psn_no: str
    medins_code: str
    tables: dict[str, list[dict[str, Any]]]
    spans: dict[str, tuple[int, int]] | None = None

    @classmethod
    def of(
        cls,
        setl: dict[str, Any],
        tables: dict[str, list[dict[str, Any]]],
        spans: dict[str, tuple[int, int]] | None = None,
    ) -> Encounter:
        """The encounter of settlement row ``setl`` (its ids as text, empty when missing)."""
        ids = {k: str(setl.get(k) or "") for k in ("setl_id", "mdtrt_id", "psn_no", "medins_code")}
        return cls(**ids, tables=tables, spans=spans)


@dataclass
class Request:
    encounters: list[Encounter]
    rule_ids: list[str] | None
    trig_scen: str | None
    # The canonical tables when the fast path read the request (else ``to_arrow`` builds them).
    arrow: dict[str, pa.Table] | None = None


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
            encounters.append(Encounter.of(setl, rows))
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
    if any(e.spans is not None for e in encounters):
        raise ValueError("encounters read by the fast path: their tables are the request's arrow")
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


def to_messages(tables: Mapping[str, pa.Table]) -> list[dict[str, Any]]:
    """A 3101 request (``to_message``) for every settlement of canonical tables
    (``setl_list``, ``diseinfo``, ``oprninfo``, ``feedetail``), in ``setl_list``'s order."""
    children: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for name, key in (("diseinfo", "setl_id"), ("oprninfo", "setl_id"), ("feedetail", "mdtrt_id")):
        rows: dict[Any, list[dict[str, Any]]] = {}
        for r in tables[name].to_pylist():
            rows.setdefault(r[key], []).append(r)
        children[name] = rows
    return [
        to_message(
            s,
            children["diseinfo"].get(s["setl_id"], []),
            children["oprninfo"].get(s["setl_id"], []),
            children["feedetail"].get(s["mdtrt_id"], []),
        )
        for s in tables["setl_list"].to_pylist()
    ]


def unknown_codes(
    encounters: list[Encounter],
    codes: dict[str, frozenset[str]],
    arrow: dict[str, pa.Table] | None = None,
) -> list[Problem]:
    """Codes absent from the dictionaries (``Knowledge`` codes): one problem per code and path.

    ``arrow``: the request's tables when the fast path read it (its encounters have no rows).
    """
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
            for k, code in enumerate(_column(enc, name, col, arrow)):
                if code is not None and code not in known:
                    problems.append(
                        Problem(f"encounter[{i}].{dto}[{k}].{field_name}", f"未知的{what}: {code}")
                    )
    return problems


def _column(enc: Encounter, name: str, col: str, arrow: dict[str, pa.Table] | None) -> list[Any]:
    """One column of an encounter's rows of table ``name``, from its rows or the Arrow tables."""
    if enc.spans is None:
        return [row.get(col) for row in enc.tables.get(name, [])]
    if arrow is None:
        raise ValueError("encounter read by the fast path: its rows are in the request's arrow")
    start, stop = enc.spans[name]
    return arrow[name].column(col).slice(start, stop - start).to_pylist()


# ---------------------------------------------------------------------------------------------
# The fast path. ``parse`` + ``to_arrow`` cost ~1 µs of Python a value (``_value``'s type tests,
# then Arrow converting Decimals and datetimes one by one) and ~3 µs an Arrow call a column;
# the order lines are ~90% of a message's values. So:
# - the few rows of the settlement, diagnoses and operations are typed as ``_record`` types them
#   (``_typed``: the same row) and filled by ``_fill`` itself;
# - the order lines are read column by column, values as sent, typed by Arrow casts from text
#   checked against the plain forms both read alike (``_texts``);
# - the tables are built with one Arrow conversion a column type, not a column (``_tables``).
# Whenever the fast path is not sure to give exactly what ``parse`` and ``to_arrow`` give, it
# raises and ``read`` falls back to them (which also report the problems).


class _Defer(Exception):
    """The fast path does not take this message; ``parse`` reads it."""


def read(body: Any) -> Request:
    """``parse`` for the audit: the request with its Arrow tables (``arrow``) when the fast path
    takes it, else ``parse(body)`` (then ``to_arrow`` builds them). For a message the fast path
    takes, ``arrow`` equals ``to_arrow(parse(body).encounters)``; any other is ``parse``'s, problems
    and all. ``body`` is a decoded JSON document (text, numbers, booleans, null, lists, objects).
    """
    try:
        return _fast(body)
    except Exception:  # whatever the fast path does not take, the slow path judges
        return parse(body)


def _fast(body: Any) -> Request:
    """``parse`` + ``to_arrow`` with the order lines read as columns; raises on any doubt."""
    if not isinstance(body, dict):
        raise _Defer
    data = body.get("data", body.get("input"))
    if not isinstance(data, dict) or not isinstance(data.get("patient_dtos"), list):
        raise _Defer
    rule_ids = data.get("rule_ids")
    if rule_ids is not None and (
        not isinstance(rule_ids, list) or not all(isinstance(r, str) for r in rule_ids)
    ):
        raise _Defer
    encounters: list[Encounter] = []
    rows: dict[str, list[dict[str, Any]]] = {"setl_list": [], "diseinfo": [], "oprninfo": []}
    orders: list[tuple[list[Any], Any, Any]] = []  # (order dtos, mdtrt_id, setl_id) an encounter
    n_orders = lines = 0
    for patient in data["patient_dtos"]:
        prow = _typed("patient", patient, into="setl_list")
        encs = patient.get("fsi_encounter_dtos")
        if not isinstance(encs, list | None):
            raise _Defer
        for enc in encs or []:
            setl = {**prow, **_typed("setl_list", enc)}
            setl.setdefault("setl_id", setl.get("mdtrt_id"))
            enc_rows: dict[str, list[dict[str, Any]]] = {"setl_list": [setl], "feedetail": []}
            for key, kind in (
                ("fsi_diagnose_dtos", "diseinfo"),
                ("fsi_operation_dtos", "oprninfo"),
            ):
                items = _items(enc, key)
                enc_rows[kind] = [_typed(kind, item) for item in items]
                lines += len(items)
            fees = _items(enc, "fsi_order_dtos")
            lines += len(fees)
            if lines > MAX_LINES or len(encounters) == MAX_ENCOUNTERS:
                raise _Defer  # ``parse`` answers 413
            _fill(enc_rows, setl)
            spans = {"feedetail": (n_orders, n_orders + len(fees))}
            n_orders += len(fees)
            for name in ("setl_list", "diseinfo", "oprninfo"):
                start = len(rows[name])
                rows[name] += enc_rows[name]
                spans[name] = (start, len(rows[name]))
            orders.append((fees, setl.get("mdtrt_id"), setl.get("setl_id")))
            encounters.append(Encounter.of(setl, {}, spans))
    if not encounters:
        raise _Defer
    parts = [_Part(name, _columns(rows[name]), len(rows[name]), False) for name in rows]
    # ``_record``'s required-field check, for the order lines read as columns.
    required = tuple(_REQUIRED_CANON["feedetail"])
    parts.append(_Part("feedetail", _order_columns(orders), n_orders, True, required))
    return Request(encounters, rule_ids, _str(data.get("trig_scen")), _tables(parts))


def _typed(kind: str, dto: Any, into: str | None = None) -> dict[str, Any]:
    """``_record``'s row of ``dto``; raises where ``_record`` would report a problem. Text and
    integers sent for columns of their type are taken as they are (``_value`` returns them
    unchanged; ~10x faster), every other value goes through ``_value``."""
    if type(dto) is not dict:
        raise _Defer
    problems: list[Problem] = []
    row: dict[str, Any] = {}
    for key, slot, v in _known(kind, dto, into):
        col = slot.column
        if slot.arrow_type is None:
            row[col] = None if v is None else str(v)
        elif type(v) is slot.kept and v != "":
            row[col] = v
        else:
            row[col] = _value(v, slot.arrow_type, key, problems)
    if problems or any(row.get(col) is None for col in _REQUIRED_CANON[kind]):
        raise _Defer
    return row


def _items(enc: dict[str, Any], key: str) -> list[Any]:
    """A child list of an encounter dto (``_list`` without a problem to report: defer)."""
    v = enc.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise _Defer
    return v


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows as columns: a list for each key a row holds (``_tables`` takes the table's)."""
    if len(rows) == 1:
        return {c: [v] for c, v in rows[0].items()}
    return {c: [r.get(c) for r in rows] for c in {c for r in rows for c in r}}


def _order_columns(orders: list[tuple[list[Any], Any, Any]]) -> dict[str, Sequence[Any]]:
    """The order lines of every encounter as ``feedetail`` columns, values as sent (``""`` still
    in), filled as ``_fill`` fills rows."""
    dtos = [d for fees, _, _ in orders for d in fees]
    if not set(map(type, dtos)) <= {dict}:
        raise _Defer
    by_key = _by_key(dtos)
    plan = _order_plan(frozenset(by_key))
    if plan is None:
        raise _Defer
    keys, bhvr_key = plan
    cols = {col: by_key[key] for key, col in keys}
    # ``_fill`` overwrites mdtrt_id and setl_id: what was sent is only checked, as ``_value``
    # would (text or null passes; anything else, e.g. a number, defers).
    for col in ("mdtrt_id", "setl_id"):
        if col in cols and not set(map(type, cols[col])) <= {str, type(None)}:
            raise _Defer
    mids: list[Any] = []
    sids: list[Any] = []
    for fees, mid, sid in orders:
        mids += [mid] * len(fees)
        sids += [sid] * len(fees)
    cols["mdtrt_id"], cols["setl_id"] = mids, sids
    if bhvr_key is not None:
        # ``_fill``: a discharge-medication flag from ``drord_bhvr`` where none was sent.
        flags = cols.get("dscg_tkdrug_flag") or [None] * len(dtos)
        cols["dscg_tkdrug_flag"] = [
            ("1" if str(b) == "1" else "0") if b is not None and (f is None or f == "") else f
            for f, b in zip(flags, by_key[bhvr_key], strict=True)
        ]
    return cols


def _by_key(dtos: list[dict[str, Any]]) -> dict[str, Sequence[Any]]:
    """The dtos' values by key (None where a dto lacks the key)."""
    first = tuple(dtos[0]) if dtos else ()
    # Usually every dto has the same keys: then one pass in C (half the time of ``get``s). A
    # dto with as many keys as the first and each of the first's has exactly the first's keys.
    if len(first) > 1 and set(map(len, dtos)) == {len(first)}:
        try:
            return dict(zip(first, zip(*map(itemgetter(*first), dtos), strict=True), strict=True))
        except KeyError:
            pass
    return {k: [d.get(k) for d in dtos] for k in frozenset().union(*dtos)}


@lru_cache(maxsize=256)
def _order_plan(keys: frozenset[str]) -> tuple[tuple[tuple[str, str], ...], str | None] | None:
    """For the keys of a message's order dtos: (key, column) of each key read as a column, and
    the ``drord_bhvr`` key if sent; None (defer) when two keys name one column (``_record``
    then keeps the last of a dto, and checks both)."""
    names, types = _NAMES["feedetail"], _TYPES["feedetail"]
    out: dict[str, str] = {}
    bhvr = None
    for key in sorted(keys):
        if key in _SPECIAL:  # ``_record`` reads it for ``_fill`` (``_inout``: not for orders)
            bhvr = key if _SPECIAL[key] == "_drord_bhvr" else bhvr
            continue
        col = names.get(key)
        if col is None or col not in types:
            continue  # unknown keys (and a nested child list) are ignored, as by ``_record``
        if col in out.values():
            return None
        out[key] = col
    return tuple(out.items()), bhvr


class _Part(NamedTuple):
    """A table to build: ``rows`` rows of ``columns`` (absent ones null)."""

    name: str
    columns: Mapping[str, Sequence[Any]]
    rows: int
    as_sent: bool  # values as sent, typed by Arrow from text (else already typed by ``_value``)
    required: tuple[str, ...] = ()  # columns that may hold no null (else: defer)


class _Group(NamedTuple):
    """The values of the columns of one type (and way of typing), end to end."""

    type: pa.DataType
    kind: str
    as_sent: bool
    values: list[Any]
    columns: list[tuple[dict[str, pa.Array], str, int, int]]  # (table's arrays, column, start, n)


def _tables(parts: list[_Part]) -> dict[str, pa.Table]:
    """The tables of ``parts``: one Arrow conversion per column type (and way of typing) over
    all their columns of that type end to end, each column then a slice of it. An Arrow call
    costs ~3 µs however few its values: the settlement's 85 columns one by one cost ~250 µs.
    All text is one conversion: the text columns (typed or not, text is text) and the texts of
    the values as sent, cast from it by type."""
    groups: dict[str, _Group] = {}
    arrays: dict[str, dict[str, pa.Array]] = {p.name: {} for p in parts}
    for name, columns, n, as_sent, _ in parts:
        if not n:
            continue
        types, table = _column_types(name), arrays[name]
        for c, values in columns.items():
            if c in types:  # not e.g. ``_inout``: no column
                key, typ, kind = types[c][as_sent]
                if key not in groups:
                    groups[key] = _Group(typ, kind, as_sent or kind == "string", [], [])
                g = groups[key]
                g.columns.append((table, c, len(g.values), n))
                g.values.extend(values)
    texts: list[Any] = []
    starts = {}
    for key, g in groups.items():
        if g.as_sent:
            starts[key] = len(texts)
            texts += _texts(g.values, g.kind)
    # Refuses anything but text and null: a number sent for a text column defers (``_value``
    # would take str(v); rare enough not to be worth a pass over every value here).
    text = pa.array(texts, pa.string())
    for key, g in groups.items():
        offset = 0
        if not g.as_sent:
            array = pa.array(g.values, g.type)
        elif g.kind == "string":
            array, offset = text, starts[key]
        else:
            array = _cast(text.slice(starts[key], len(g.values)), g.type, g.kind)
        cut = array.slice
        for table, c, start, n in g.columns:
            table[c] = cut(offset + start, n)
    out = {}
    for name, _, n, _, required in parts:
        if not n:
            out[name] = _empty(name)
            continue
        if any(c not in arrays[name] or arrays[name][c].null_count for c in required):
            raise _Defer
        columns = _nulls(name, n) | arrays[name] if n <= 64 else _with_nulls(name, n, arrays[name])
        out[name] = pa.Table.from_arrays(
            [columns[c] for c in _names_of(name)], schema=_schema(name)
        )
    return out


def _kind(typ: pa.DataType) -> str:
    for kind, test in (
        ("string", pa.types.is_string),
        ("timestamp", pa.types.is_timestamp),
        ("date", pa.types.is_date),
        ("decimal", pa.types.is_decimal),
        ("int", pa.types.is_integer),
        ("float", pa.types.is_floating),
    ):
        if test(typ):
            return kind
    return "other"  # none in the canonical tables; ``_texts`` defers on it


_KINDS = {name: {c: _kind(typ) for c, typ in types.items()} for name, types in _TYPES.items()}


@cache
def _column_types(name: str) -> dict[str, tuple[tuple[str, pa.DataType, str], ...]]:
    """Column of table ``name`` -> for typed values, then for values as sent: (the key of its
    group in ``_tables``, its type, its ``_kind``). Text is one group either way."""
    out = {}
    for f in _schema(name):
        kind = _KINDS[name][f.name]
        text = "string" if kind == "string" else None
        out[f.name] = tuple(
            (text or f"{f.type}/{'sent' if sent else 'typed'}", f.type, kind)
            for sent in (False, True)
        )
    return out


@cache
def _names_of(name: str) -> tuple[str, ...]:
    return tuple(_schema(name).names)


@cache
def _empty(name: str) -> pa.Table:
    return _schema(name).empty_table()


# Keyed by names, not by type: hashing an Arrow type costs as much as making the array. For
# the few row counts of settlements, diagnoses, operations (and short orders) only: ~80 bytes a
# row a column.
@lru_cache(maxsize=256)
def _nulls(name: str, n: int) -> dict[str, pa.Array]:
    """A null column of ``n`` rows for each column of ``name`` (immutable: shared by tables)."""
    return {c: pa.nulls(n, typ) for c, typ in _TYPES[name].items()}


def _with_nulls(name: str, n: int, arrays: dict[str, pa.Array]) -> dict[str, pa.Array]:
    return {c: arrays[c] if c in arrays else pa.nulls(n, t) for c, t in _TYPES[name].items()}


# The text ``_value`` reads, and the Arrow cast reads the same, for each kind of column: plain
# ASCII forms only (Arrow also reads hexadecimal integers, year 0, ...; ``_value`` also reads
# whitespace, '+', exponents of decimals, '1_000', time zones, fractions of seconds, ... - those
# defer). Arrow checks what the forms leave open: int32 range, decimal scale (digits beyond it
# refused, as ``quantize`` does) and precision, calendar dates and clock times.
_FORMS = {
    "int": r"-?[0-9]+",
    "decimal": r"-?[0-9]+(?:\.[0-9]+)?",
    "float": r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?",
    "timestamp": r"(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}:[0-9]{2})?",
    "date": r"(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}",
}
# Each form repeated over lines: the texts of a column are checked with one regex run (3x
# faster than a match a value). No form matches a newline.
_LINES = {kind: re.compile(f"(?:{form})(?:\n(?:{form}))*") for kind, form in _FORMS.items()}
# The Python types ``_value`` reads as a number of each kind (besides text; bool is an int).
_NUMBERS: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "decimal": (int, float),
    "float": (int, float),
}


def _texts(values: list[Any], kind: str) -> list[Any]:
    """Values as sent (``""`` for null) as texts Arrow reads as ``_value`` reads them, or
    raises: for a value ``_value`` would not read, or might read otherwise (also for one that
    cannot be hashed, a list or an object: ``_value`` refuses those but for text)."""
    if kind == "string":  # checked by the conversion
        return [None if v == "" else v for v in values] if "" in values else values
    if kind not in _FORMS:
        raise _Defer
    # Amounts and times repeat within a message: each distinct text is checked once.
    texts, lines = values, set(values)
    joined = None if kind == "date" or "" in lines or None in lines else _join(lines)
    if joined is None:  # some null, or not text, or a date: a pass in Python
        texts = [v if type(v) is str and v else _text(v, kind) for v in values]
        if kind == "date":
            texts = [t if t is None else t[:10] for t in texts]  # ``date.fromisoformat(v[:10])``
        lines = {t for t in texts if t is not None}
        joined = "\n".join(lines)
    # A text holding a newline would pass as two lines: the count of lines must match too.
    if lines and (joined.count("\n") != len(lines) - 1 or not _LINES[kind].fullmatch(joined)):
        raise _Defer
    return texts


def _cast(text: pa.Array, typ: pa.DataType, kind: str) -> pa.Array:
    """Checked texts (``_texts``) as ``typ``: raises where Arrow refuses one."""
    array = text.cast(typ)
    if kind == "float" and not pc.all(pc.is_finite(array)).as_py():
        raise _Defer  # '1e999' is inf for both, but the slow path is then the one to ask
    return array


def _join(values: Iterable[Any]) -> str | None:
    """The values joined by newlines if all are text (one pass in C), else None."""
    try:
        return "\n".join(values)
    except TypeError:
        return None


def _text(v: Any, kind: str) -> str | None:
    """A value sent as other than text (or as ``""``): the text ``_value`` reads it as."""
    if v is None or v == "":
        return None
    if isinstance(v, bool) or not isinstance(v, _NUMBERS.get(kind, ())):
        raise _Defer  # what ``_value`` refuses (or text-only columns given a number)
    return str(v)
