"""Fuzz drill: generated malformed settlement-list files through ingest.

Each example writes one ``setl_list`` file: a random encoding (UTF-8 with and without BOM,
GBK, GB18030, Big5, UTF-16), line ends (\\n, \\r\\n, \\r, mixed), delimiter and quoting, with
some rows damaged: absurd or mistyped values, a field too many or too few, undecodable bytes,
a cut last row. Whatever the file, ingest raises at most an ``InputError`` (never another
exception), rows in = accepted + quarantined, every damaged row that is kept holds exactly
what it held, and every undamaged row is stored unchanged.

The default suite runs a few dozen examples; ``-m slow`` runs the drill (1,200 examples).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huiyan.engine import Store
from huiyan.errors import InputError
from huiyan.ingest import ingest

ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "big5", "utf-16")
# Names every encoding above can write (traditional and simplified alike).
NAMES = ("王小明", "李四", "張三", "趙六", "林美玲", "John Smith", "王-二", "周 七", "黃一", "高明")
ENDS = ("\n", "\r\n", "\r", "mixed")
DELIMITERS = (",", "\t", "|")
FIELDS = ("age", "medfee_sumamt", "adm_time", "dscg_time", "gend", "psn_name", "brdy")
WEIRD = (
    "NaN", "inf", "-inf", "1e400", "9" * 400, "0x1A", "1_000", "12.5", "-1", "",
    "9999-12-31 00:00:00", "1900-01-01", "0000-00-00", "2024-02-30", '"', "'", ",", "\t",
    "=HYPERLINK(\"http://x\")", "\u2028", "\u0085", "\x00", "NULL", " ", "　", "ü", "😀",
    "\ufeff", "\\", "a\nb", "a\rb", "99999999999999.99", "-0", "+5", ".5", "1e5",
)  # fmt: skip
DAMAGE = ("value", "extra_field", "missing_field", "bad_byte", "cut")


def _row(i: int, rnd: random.Random) -> dict[str, str]:
    day = 1 + i % 20
    return {
        "setl_id": f"S{i:04d}",
        "mdtrt_id": f"M{i:04d}",
        "psn_no": f"P{i:04d}",
        "medins_code": "H37010001",
        "psn_name": rnd.choice(NAMES),
        "gend": rnd.choice(("1", "2")),
        "brdy": f"19{rnd.randint(10, 99)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
        "age": str(rnd.randint(0, 100)),
        "insutype": "310",
        "med_type": "21",
        "adm_time": f"2024-03-{day:02d} 08:00:00",
        "dscg_time": f"2024-03-{day + 5:02d} 10:30:00",
        "medfee_sumamt": f"{rnd.randint(0, 10**7)}.{rnd.randint(0, 99):02d}",
    }


@dataclass
class Case:
    rows: list[dict[str, str]]
    encoding: str
    end: str
    delimiter: str
    damaged: dict[int, str] = field(default_factory=dict)  # row index -> damage kind
    data: bytes = b""


def _line_end(end: str, i: int) -> str:
    return ("\n", "\r\n", "\r")[i % 3] if end == "mixed" else end


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    seed = draw(st.integers(0, 2**32 - 1))
    rnd = random.Random(seed)
    n = draw(st.integers(1, 15))
    case = Case(
        rows=[_row(i, rnd) for i in range(n)],
        encoding=draw(st.sampled_from(ENCODINGS)),
        end=draw(st.sampled_from(ENDS)),
        delimiter=draw(st.sampled_from(DELIMITERS)),
    )
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, n - 1))
        kind = draw(st.sampled_from(DAMAGE))
        if kind == "cut" and i != n - 1:
            kind = "value"
        if kind == "bad_byte" and case.encoding == "utf-16":
            kind = "value"  # one byte more would shift every later character
        if kind == "value":
            f = draw(st.sampled_from(FIELDS))
            v = draw(st.one_of(st.sampled_from(WEIRD), st.text(max_size=8)))
            try:
                v.encode(case.encoding)
            except UnicodeEncodeError:
                continue
            case.rows[i][f] = v
        case.damaged.setdefault(i, kind)
    quoting = draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL)))
    head = list(case.rows[0])
    out = []
    for i, r in enumerate([dict(zip(head, head, strict=True)), *case.rows]):
        buf = io.StringIO()
        # The writer quotes values holding characters of its line terminator: \r\n covers both.
        csv.writer(buf, delimiter=case.delimiter, quoting=quoting, lineterminator="\r\n").writerow(
            list(r.values())
        )
        line = buf.getvalue().removesuffix("\r\n")
        kind = case.damaged.get(i - 1) if i else None
        if kind == "extra_field":
            line += case.delimiter
            line += draw(st.sampled_from(("", "x", case.delimiter)))
        elif kind == "missing_field":
            line = line[: line.rfind(case.delimiter)]
        raw = _encode(line, case.encoding)
        if kind == "bad_byte":
            raw = raw + b"\xff" if case.encoding != "utf-8-sig" else b"\xff" + raw
        elif kind == "cut":
            raw = raw[: max(1, len(raw) // 2)]
        end = b"" if kind == "cut" else _encode(_line_end(case.end, i), case.encoding)
        out.append(raw + end)
    data = b"".join(out)
    if case.encoding in ("utf-8-sig", "utf-16"):
        # One BOM at the start of the file (the codecs write one per call).
        bom = "".encode(case.encoding)
        data = bom + data.replace(bom, b"")
    case.data = data
    return case


def _stored(store: Store) -> dict[str, tuple]:
    if not store.has("setl_list"):
        return {}
    rows = store.con.sql(
        "select setl_id, psn_name, medfee_sumamt, adm_time, dscg_time from setl_list"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def _expected(row: dict[str, str]) -> tuple:
    from datetime import datetime

    return (
        row["psn_name"],
        Decimal(row["medfee_sumamt"]),
        datetime.fromisoformat(row["adm_time"]),
        datetime.fromisoformat(row["dscg_time"]),
    )


def check(case: Case, folder: Path) -> None:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "setl_list.csv").write_bytes(case.data)
    with Store(folder / "drill.duckdb") as store:
        try:
            report = ingest(folder / "data", store)
        except InputError:
            return  # a clear error naming the file, no traceback: allowed for any input
        c = report.tables["setl_list"]
        assert c.read == c.accepted + c.quarantined
        assert c.read == len(case.rows)
        assert store.count("quarantine") == c.quarantined
        stored = _stored(store)
        for i, row in enumerate(case.rows):
            if i in case.damaged:
                # A damaged row kept must hold what it says (no shifted columns).
                if row["setl_id"] in stored and case.damaged[i] != "value":
                    pytest.fail(f"row {i + 1} damaged by {case.damaged[i]} was accepted")
                continue
            assert stored.get(row["setl_id"]) == _expected(row), (i, case.encoding, case.end)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("end", ENDS)
def test_undamaged_files_load_whole(tmp_path: Path, encoding: str, end: str) -> None:
    rnd = random.Random(7)
    case = Case(rows=[_row(i, rnd) for i in range(6)], encoding=encoding, end=end, delimiter=",")
    head = ",".join(case.rows[0])
    lines = [head] + [",".join(r.values()) for r in case.rows]
    data = "".join(line + _line_end(end, i) for i, line in enumerate(lines))
    case.data = data.encode(encoding)
    check(case, tmp_path)


_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "derandomize": True,
}


@settings(max_examples=40, **_SETTINGS)
@given(case=cases())
def test_fuzz_quick(case: Case) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        check(case, Path(tmp))


@pytest.mark.slow
@settings(max_examples=1200, **_SETTINGS)
@given(case=cases())
def test_fuzz_drill(case: Case) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        check(case, Path(tmp))
