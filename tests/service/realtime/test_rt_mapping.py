"""The fast path of a 3101 message (``mapping.read``) against the slow path (``parse`` +
``to_arrow``): every message it takes gives exactly the slow path's tables and request; every
other is the slow path's, problems and all.

Messages come from a small synthetic region (``to_message`` of its encounters) and from a
hand-made encounter with each tricky value in turn: numbers for text, text for numbers,
booleans, exponents, NaN and infinities, whitespace, time zones, fractions of seconds, date-only
times, 'T', impossible dates, values too large for their column, missing required fields,
aliases named twice, and malformed structures.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from huiyan.model.tables import TABLES
from huiyan.service.realtime import mapping
from huiyan.service.realtime.mapping import (
    MessageError,
    parse,
    read,
    to_arrow,
    to_messages,
    unknown_codes,
)
from huiyan.synth.generate import generate

NAMES = ("setl_list", "diseinfo", "oprninfo", "feedetail")


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A 3101 message for each encounter of a small synthetic region."""
    folder: Path = tmp_path_factory.mktemp("region")
    generate(folder / "data", cases=60, seed=17, fmt="parquet", labels_dir=folder / "labels")
    t = {n: TABLES[n].conform(pq.read_table(folder / "data" / f"{n}.parquet")) for n in NAMES}
    return to_messages(t)


def _same(a: pa.Table, b: pa.Table) -> bool:
    """Same schema (and metadata), same values: repr tells NaN (which ``equals`` does not
    equal to itself), -0.0 from 0.0 and a Decimal's digits."""
    return a.schema.equals(b.schema, check_metadata=True) and repr(a.to_pylist()) == repr(
        b.to_pylist()
    )


def _known(req: mapping.Request) -> dict[str, frozenset[str]]:
    """Dictionaries holding every other code of the request (so some codes are unknown)."""
    arrow = req.arrow if req.arrow is not None else to_arrow(req.encounters)
    out = {}
    for kind, name, col in (
        ("diag", "diseinfo", "diag_code"),
        ("oprn", "oprninfo", "oprn_oprt_code"),
        ("hilist", "feedetail", "med_list_codg"),
    ):
        codes = sorted({c for c in arrow[name].column(col).to_pylist() if c is not None})
        out[kind] = frozenset(codes[::2]) or frozenset({"-"})
    return out


def outcome(body: Any) -> str:
    """How ``read`` takes ``body`` ("fast", "deferred", "rejected" or "raises": ``parse``
    fails), having checked that it answers exactly as the slow path does."""
    try:
        slow = parse(body)
    except MessageError as exc:
        with pytest.raises(MessageError) as got:
            read(body)
        assert (got.value.problems, got.value.status) == (exc.problems, exc.status)
        with pytest.raises(Exception):  # noqa: B017 - the fast path itself refused it
            mapping._fast(body)
        return "rejected"
    except Exception as exc:  # the router answers 503 for both
        with pytest.raises(type(exc)):
            read(body)
        return "raises"
    got = read(body)
    if got.arrow is None:
        assert got == slow  # ``parse``'s own request
        return "deferred"
    want = to_arrow(slow.encounters)  # the slow path builds them (else: no fast path here)
    for name in NAMES:
        assert _same(got.arrow[name], want[name]), name
    fields = [(e.setl_id, e.mdtrt_id, e.psn_no, e.medins_code) for e in slow.encounters]
    assert [(e.setl_id, e.mdtrt_id, e.psn_no, e.medins_code) for e in got.encounters] == fields
    assert (got.rule_ids, got.trig_scen) == (slow.rule_ids, slow.trig_scen)
    codes = _known(slow)
    assert unknown_codes(got.encounters, codes, got.arrow) == unknown_codes(slow.encounters, codes)
    return "fast"


def test_region_messages_take_the_fast_path(region: list[dict[str, Any]]) -> None:
    assert len(region) > 50
    assert [outcome(m) for m in region] == ["fast"] * len(region)
    # Several encounters, of one patient and of several: rows end to end, spans per encounter.
    encs = [m["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0] for m in region[:5]]
    body = {
        "data": {
            "trig_scen": "1",
            "rule_ids": ["R1", "R2"],
            "patient_dtos": [
                {"patn_id": "P1", "fsi_encounter_dtos": encs[:3]},
                {"patn_id": "P2", "patn_name": "乙", "fsi_encounter_dtos": encs[3:]},
            ],
        }
    }
    assert outcome(body) == "fast"
    assert read(body).encounters[4].spans["feedetail"][1] == sum(
        len(e["fsi_order_dtos"]) for e in encs
    )


def test_unknown_codes_from_the_arrow_tables(region: list[dict[str, Any]]) -> None:
    body = max(region, key=lambda m: len(_encounter(m)["fsi_diagnose_dtos"]))
    fast, slow = read(body), parse(body)
    assert fast.arrow is not None and fast.encounters[0].tables == {}
    codes = _known(slow)
    problems = unknown_codes(fast.encounters, codes, fast.arrow)
    assert problems and problems == unknown_codes(slow.encounters, codes)
    assert {p.path.split(".")[1].split("[")[0] for p in problems} >= {
        "fsi_diagnose_dtos",
        "fsi_order_dtos",
    }
    # Its encounters have no rows: asked for them without the tables, both refuse.
    with pytest.raises(ValueError):
        unknown_codes(fast.encounters, codes)
    with pytest.raises(ValueError):
        to_arrow(fast.encounters)


def _order(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "rx_id": f"RX{n}",
        "mdtrt_id": "M1",
        "setl_id": "S1",
        "drord_begn_date": f"2024-03-0{n} 09:00:00",
        "hilist_code": f"X{n}",
        "hilist_name": "床位费",
        "cnt": "2.0000",
        "pric": "5.2500",
        "sumamt": "10.50",
        "drord_dept_codg": "A01",
        **extra,
    }


def base() -> dict[str, Any]:
    """A hand-made message: every kind of column in the settlement, two diagnoses, an
    operation, three orders."""
    enc = {
        "setl_id": "S1",
        "mdtrt_id": "M1",
        "medins_id": "H1",
        "psn_name": "甲",
        "gend": "1",
        "brdy": "1990-09-19",
        "age": 34,
        "adm_date": "2024-03-01 08:00:00",
        "dscg_date": "2024-03-09 10:30:00",
        "act_ipt_days": 8,
        "vent_used_dura": 1.5,
        "medfee_sumamt": "1234.50",
        "hifp_payamt": "1000.00",
        "setl_begn_date": "2024-03-01",
        "dscg_way": "1",
        "fsi_diagnose_dtos": [
            {"dise_codg": "J18.900", "dise_name": "肺炎", "maindise_flag": "1", "dias_srt_no": 1},
            {"dise_codg": "I10.x00", "dias_srt_no": 2, "adm_cond_type": "1"},
        ],
        "fsi_operation_dtos": [
            {
                "oprn_oprt_code": "33.2400",
                "oprn_date": "2024-03-02 10:00:00",
                "oprn_oprt_date": "2024-03-02",
                "main_oprn": "1",
            }
        ],
        "fsi_order_dtos": [_order(1), _order(2), _order(3, drord_bhvr="1")],
    }
    return {"data": {"patient_dtos": [{"patn_id": "P1", "fsi_encounter_dtos": [enc]}]}}


def _set(body: dict[str, Any], where: str, key: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    patient = out["data"]["patient_dtos"][0]
    enc = patient["fsi_encounter_dtos"][0]
    dto = {
        "patient": patient,
        "encounter": enc,
        "diag": enc["fsi_diagnose_dtos"][0],
        "oprn": enc["fsi_operation_dtos"][0],
        "order": enc["fsi_order_dtos"][0],
    }[where]
    dto[key] = value
    return out


NAN = float("nan")
# (where, key, value, outcome): the fast path takes plain values, defers what it does not read
# alike for sure, and never takes what the slow path rejects.
VALUES = [
    # Decimals of the order lines (scale 4 and 2), read from text by Arrow.
    ("order", "cnt", "2.5", "fast"),
    ("order", "cnt", 2, "fast"),
    ("order", "cnt", 2.5, "fast"),
    ("order", "cnt", "-0", "fast"),
    ("order", "sumamt", "10.500", "fast"),  # zeros beyond the scale: both read 10.50
    ("order", "sumamt", "10.505", "rejected"),  # a digit beyond the scale
    ("order", "sumamt", 10.505, "rejected"),
    ("order", "cnt", "1e3", "deferred"),
    ("order", "cnt", 1e16, "deferred"),  # str() is '1e+16'
    ("order", "cnt", " 1.5", "deferred"),
    ("order", "cnt", "+1.5", "deferred"),
    ("order", "cnt", "1_000", "deferred"),
    ("order", "cnt", ".5", "deferred"),
    ("order", "cnt", "١٢", "deferred"),  # Arabic-Indic digits: Decimal reads them
    ("order", "sumamt", "123456789012345.67", "deferred"),  # beyond the precision: to_arrow fails
    ("order", "pric", 10**30, "rejected"),
    ("order", "cnt", "NaN", "rejected"),
    ("order", "cnt", "Infinity", "rejected"),
    ("order", "cnt", NAN, "rejected"),
    ("order", "cnt", True, "rejected"),
    ("order", "cnt", "abc", "rejected"),
    ("order", "cnt", "0x1F", "rejected"),
    ("order", "cnt", [1], "rejected"),
    ("order", "cnt", {"v": 1}, "rejected"),
    ("order", "cnt", "", "rejected"),  # required
    ("order", "cnt", None, "rejected"),
    # Times of the order lines.
    ("order", "drord_begn_date", "2024-03-01T09:00:00", "fast"),
    ("order", "drord_begn_date", "2024-03-01", "fast"),  # midnight for both
    ("order", "drord_begn_date", "2024-02-29 23:59:59", "fast"),
    ("order", "drord_begn_date", "2024-03-01 09:00:00+08:00", "deferred"),  # zone dropped
    ("order", "drord_begn_date", "2024-03-01 09:00:00Z", "deferred"),
    ("order", "drord_begn_date", "2024-03-01 09:00:00.5", "deferred"),
    ("order", "drord_begn_date", "2024-03-01 09:00", "deferred"),
    ("order", "drord_begn_date", "2024-03-01 09", "deferred"),
    ("order", "drord_begn_date", "20240301", "deferred"),
    ("order", "drord_begn_date", "2024-03-01\n09:00:00", "deferred"),  # any separator
    ("order", "drord_begn_date", "2024-03-01\n2024-03-02", "rejected"),
    ("order", "drord_begn_date", " 2024-03-01 09:00:00", "rejected"),
    ("order", "drord_begn_date", "2023-02-29 00:00:00", "rejected"),
    ("order", "drord_begn_date", "2024-03-01 24:00:00", "rejected"),
    ("order", "drord_begn_date", "2024-03-01 23:59:60", "rejected"),
    ("order", "drord_begn_date", "0000-01-01 00:00:00", "rejected"),
    ("order", "drord_begn_date", 20240301, "rejected"),
    ("order", "drord_begn_date", "", "rejected"),
    # Text of the order lines.
    ("order", "hilist_name", "", "fast"),
    ("order", "hilist_name", None, "fast"),
    ("order", "hilist_name", "名\n称", "fast"),
    ("order", "hilist_name", "\ud800", "deferred"),  # no UTF-8: to_arrow fails too
    ("order", "rx_id", 7, "deferred"),  # the slow path takes str(7)
    ("order", "rx_id", 1.5, "deferred"),
    ("order", "rx_id", True, "rejected"),
    ("order", "rx_id", "", "rejected"),
    ("order", "hilist_code", None, "rejected"),
    ("order", "mdtrt_id", "other", "fast"),  # overwritten by the encounter's
    ("order", "setl_id", None, "fast"),
    ("order", "mdtrt_id", 5, "deferred"),
    ("order", "setl_id", True, "rejected"),
    ("order", "drord_bhvr", 1, "fast"),
    ("order", "drord_bhvr", "", "fast"),
    ("order", "dscg_tkdrug_flag", "", "fast"),
    ("order", "med_list_codg", "X9", "deferred"),  # a column named twice (alias and canonical)
    ("order", "unknown_key", {"x": 1}, "fast"),
    ("order", "fsi_order_dtos", [1, 2], "fast"),
    ("order", "inout_dise_type", "2", "fast"),
    # Diagnoses and operations: typed as ``_record`` types them.
    ("diag", "dias_srt_no", "3", "fast"),
    ("diag", "dias_srt_no", 2.0, "rejected"),
    ("diag", "dias_srt_no", True, "rejected"),
    ("diag", "dias_srt_no", 2**40, "deferred"),  # beyond int32: to_arrow fails
    ("diag", "maindise_flag", 1, "fast"),
    ("diag", "maindise_flag", "", "fast"),
    ("diag", "inout_dise_type", "1", "fast"),
    ("diag", "dise_codg", "", "rejected"),
    ("oprn", "oprn_date", "2024-03-02T10:00:00+08:00", "fast"),
    ("oprn", "oprn_oprt_date", "2024-03-02 10:00:00", "fast"),
    ("oprn", "oprn_oprt_date", "2024-02-30", "rejected"),
    # The settlement: typed as ``_record`` types it.
    ("encounter", "age", "34", "fast"),
    ("encounter", "age", 34.0, "rejected"),
    ("encounter", "age", True, "rejected"),
    ("encounter", "age", 2**40, "deferred"),
    ("encounter", "brdy", "1990-09-19 00:00:00", "fast"),
    ("encounter", "vent_used_dura", "nan", "fast"),
    ("encounter", "vent_used_dura", "1e999", "fast"),
    ("encounter", "vent_used_dura", 10**400, "raises"),  # float() overflows (503 either way)
    ("encounter", "medfee_sumamt", "1e3", "fast"),
    ("encounter", "medfee_sumamt", "1.005", "rejected"),
    ("encounter", "mdtrt_id", 5, "fast"),  # text from a number, for the orders too
    ("encounter", "adm_date", "", "rejected"),
    ("encounter", "fsi_order_dtos", {"rx_id": "1"}, "rejected"),
    ("patient", "age", "abc", "rejected"),  # checked though the encounter's age wins
    ("patient", "psn_name", "乙", "fast"),
    ("patient", "patn_id", "", "rejected"),
]


@pytest.mark.parametrize(("where", "key", "value", "expected"), VALUES, ids=lambda x: repr(x)[:30])
def test_values(where: str, key: str, value: Any, expected: str) -> None:
    assert outcome(_set(base(), where, key, value)) == expected


def _encounter(body: dict[str, Any]) -> dict[str, Any]:
    return body["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]


def _structures() -> list[tuple[str, dict[str, Any] | Any, str]]:
    out: list[tuple[str, Any, str]] = [("base", base(), "fast")]
    b = base()
    del _encounter(b)["fsi_order_dtos"][1]["hilist_name"]
    out.append(("orders with other keys", b, "fast"))
    b = base()
    o = _encounter(b)["fsi_order_dtos"][1]
    o["med_list_codg"] = o.pop("hilist_code")
    out.append(("one column under two names in two orders", b, "deferred"))
    b = base()
    o = _encounter(b)["fsi_order_dtos"][1]
    o["med_list_name"] = o.pop("hilist_name")
    out.append(("an optional column under two names in two orders", b, "deferred"))
    b = base()
    o = _encounter(b)["fsi_order_dtos"][1]
    name = o.pop("hilist_name")
    o.update({"med_list_name": "其他", "hilist_name": name})  # the alias last: it wins
    out.append(("a column named twice in one order", b, "deferred"))
    b = base()
    _encounter(b)["fsi_order_dtos"] = []
    out.append(("no orders", b, "fast"))
    b = base()
    _encounter(b)["fsi_operation_dtos"] = None
    out.append(("no operations", b, "fast"))
    b = base()
    _encounter(b)["fsi_diagnose_dtos"][0]["inout_dise_type"] = "2"
    _encounter(b)["fsi_diagnose_dtos"][1]["inout_dise_type"] = "1"
    out.append(("admission diagnoses dropped", b, "fast"))
    b = copy.deepcopy(b)
    _encounter(b)["fsi_diagnose_dtos"][1]["dias_srt_no"] = "x"
    out.append(("a dropped diagnosis still checked", b, "rejected"))
    b = base()
    _encounter(b)["fsi_order_dtos"].append("not an object")
    out.append(("an order not an object", b, "rejected"))
    b = base()
    _encounter(b)["fsi_order_dtos"] = _encounter(b)["fsi_order_dtos"] * 1700
    out.append(("too many lines", b, "rejected"))
    b = base()
    b["data"]["patient_dtos"][0]["fsi_encounter_dtos"] *= 51
    out.append(("too many encounters", b, "rejected"))
    b = base()
    b["data"]["rule_ids"] = ["R1"]
    b["data"]["trig_scen"] = 5
    out.append(("rule ids and a number for trig_scen", b, "fast"))
    b = base()
    b["data"]["rule_ids"] = "R1"
    out.append(("rule ids not a list", b, "rejected"))
    out.append(("input for data", {"input": base()["data"]}, "fast"))
    out.append(("no patients", {"data": {"patient_dtos": []}}, "rejected"))
    out.append(("no encounters", {"data": {"patient_dtos": [{"patn_id": "P1"}]}}, "rejected"))
    out.append(("patients not a list", {"data": {"patient_dtos": {}}}, "rejected"))
    out.append(("no data", {"data": 5}, "rejected"))
    out.append(("not an object", [base()], "rejected"))
    return out


@pytest.mark.parametrize(("name", "body", "expected"), _structures(), ids=lambda x: str(x)[:40])
def test_structures(name: str, body: Any, expected: str) -> None:
    assert outcome(body) == expected, name


# Values tried at random in every field of the region's messages.
TRICKY: list[Any] = [
    None, "", " ", "0", "-0", "1", "007", "-12", "2147483648", "1.5", "1.50000", "1.505", "12.3456",
    "1e3", "1E-2", "+1", ".5", "5.", "1_0", "NaN", "Infinity", "-inf", "0x1F", "١٢", "abc",
    "2024-03-01", "2024-03-01 09:00:00", "2024-03-01T09:00:00", "2024-03-01 09:00:00.25",
    "2024-03-01 09:00:00+08:00", "2024-03-01Z", "2024-13-01", "2024-02-30 00:00:00",
    "0000-01-01", "20240301", "2024-03-01 9:00:00", "2024-03-01 09:00", "中文", "a\nb",
    0, 1, -1, 7, 2**31, 10**20, 1.5, 0.1, -0.0, 1e16, 1e-7, NAN, math.inf, True, False,
    [], [1], {}, {"a": 1},
]  # fmt: skip


def test_random_variants(region: list[dict[str, Any]]) -> None:
    """Any value in any field: the fast path's answer is always the slow path's."""
    rng = random.Random(20240301)
    seen: Counter[str] = Counter()
    extra = ["cnt", "sumamt", "drord_bhvr", "dscg_tkdrug_flag", "age", "brdy", "vent_used_dura"]
    for _ in range(400):
        body = copy.deepcopy(rng.choice(region))
        enc = _encounter(body)
        dtos = [enc, body["data"]["patient_dtos"][0]]
        for key in ("fsi_order_dtos", "fsi_diagnose_dtos", "fsi_operation_dtos"):
            dtos += enc[key][:2]
        for _ in range(rng.choice((1, 1, 2, 3))):
            dto = rng.choice(dtos)
            keys = [k for k in dto if not k.endswith("_dtos")] + extra
            dto[rng.choice(keys)] = copy.deepcopy(rng.choice(TRICKY))
        seen[outcome(body)] += 1
    assert {"fast", "deferred", "rejected"} <= set(seen), seen


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("int", "12"),
        ("decimal", "1.5"),
        ("float", "1e-5"),
        ("timestamp", "2024-03-01 09:00:00"),
        ("date", "2024-03-01"),
    ],
)
def test_texts_checks_each_text(kind: str, text: str) -> None:
    """The forms are checked over all a column's texts at once, each text on its own line: a
    text spanning two lines is refused (though each of its lines has the form)."""
    assert mapping._texts([text, text, None, ""], kind) == [text, text, None, None]
    two_lines = f"{text}\n{text}"
    if kind == "date":  # read as ``date.fromisoformat(v[:10])`` reads it
        assert mapping._texts([text, two_lines], kind) == [text, text]
    else:
        with pytest.raises(mapping._Defer):
            mapping._texts([text, two_lines], kind)
    with pytest.raises(mapping._Defer):
        mapping._texts([f" {text}"], kind)


def _slow_value(v: Any, typ: pa.DataType) -> Any:
    """What the slow path makes of ``v``: the Arrow value, or "rejected" / "unbuildable"."""
    problems: list[mapping.Problem] = []
    typed = mapping._value(v, typ, "v", problems)
    if problems:
        return "rejected"
    try:
        return pa.array([typed], typ)[0]
    except (pa.ArrowException, OverflowError, ValueError):
        return "unbuildable"


def _fast_value(v: Any, typ: pa.DataType, kind: str) -> Any:
    """What the fast path makes of ``v`` as sent: the Arrow value, or "deferred"."""
    try:
        texts = mapping._texts([v], kind)
        return mapping._cast(pa.array(texts, pa.string()), typ, kind)[0]
    except Exception:
        return "deferred"


def _strings(alphabet: str, longest: int) -> list[str]:
    return [
        "".join(p) for n in range(1, longest + 1) for p in itertools.product(alphabet, repeat=n)
    ]


def _mutations(text: str, alphabet: str) -> list[str]:
    """``text`` with each character replaced by, or preceded by, each of ``alphabet``, or cut."""
    out = [text]
    for i in range(len(text) + 1):
        out += [text[:i] + c + text[i:] for c in alphabet]
        out += [text[:i] + c + text[i + 1 :] for c in alphabet]
        out.append(text[:i] + text[i + 1 :])
    return out


@pytest.mark.parametrize(
    ("typ", "values"),
    [
        (pa.decimal128(16, 2), _strings("05.-e+ ", 4)),
        (pa.decimal128(18, 4), _strings("19.-E_", 4)),
        (pa.int32(), _strings("09-+x. ", 4)),
        (pa.float64(), _strings("19.-ena", 4)),
        (pa.timestamp("s"), _mutations("2024-02-29 23:59:59", "0139-: TZ.+")),
        (pa.date32(), _mutations("2024-02-29", "0139-: T")),
    ],
    ids=str,
)
def test_values_as_sent_read_alike(typ: pa.DataType, values: list[str]) -> None:
    """Exhaustively over small alphabets (and around a valid time): a text the fast path reads,
    the slow path reads to the same Arrow value; what it does not, it defers."""
    kind = mapping._kind(typ)
    taken = 0
    for v in values:
        fast = _fast_value(v, typ, kind)
        if isinstance(fast, str):
            continue
        taken += 1
        slow = _slow_value(v, typ)
        assert isinstance(slow, pa.Scalar), (v, slow)
        assert repr(fast.as_py()) == repr(slow.as_py()), v
    assert taken > 10
