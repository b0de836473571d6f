"""The synthetic region: determinism, schema, label rates, reconciled amounts, planted evidence."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from huiyan.model.enums import codes
from huiyan.model.tables import TABLES
from huiyan.synth import generate

CASES = 3000


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("region")
    generate(root / "data", cases=CASES, seed=7, months=3, violation_rate=0.19)
    return root


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.csv"))
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a = generate(tmp_path / "a" / "data", cases=400, seed=11, months=2)
    b = generate(tmp_path / "b" / "data", cases=400, seed=11, months=2)
    c = generate(tmp_path / "c" / "data", cases=400, seed=12, months=2)
    assert _digest(a.out_dir.parent) == _digest(b.out_dir.parent)
    assert _digest(a.out_dir.parent) != _digest(c.out_dir.parent)


def test_every_file_has_model_columns_and_parses_with_model_types(region: Path) -> None:
    data = region / "data"
    paths = [*data.glob("*.csv"), *(data / "knowledge").glob("*.csv")]
    assert {"setl_list.csv", "diseinfo.csv", "feedetail.csv"} <= {p.name for p in paths}
    for path in paths:
        table = TABLES[path.stem]
        header = path.read_text("utf-8").splitlines()[0].replace('"', "").split(",")
        assert header == table.columns, path.name
        types = {f.name: f.type for f in table.fields}
        parsed = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
        assert parsed.num_rows > 0, path.name
    assert not (data / "labels.csv").exists()
    assert (region / "labels" / "labels.csv").is_file()


def test_every_class_is_planted_at_the_requested_rate(region: Path) -> None:
    labels = _read(region / "labels" / "labels.csv")
    per_class = dict.fromkeys(codes("vola_bhvr_type"), 0)
    for row in labels:
        per_class[row["vola_bhvr_type"]] += 1
    expected = CASES * 0.19 / len(per_class)  # 30 per class
    for cls, n in per_class.items():
        assert 0.6 * expected <= n <= 1.4 * expected, (cls, n)


def test_clean_region_has_no_labels(tmp_path: Path) -> None:
    report = generate(tmp_path / "data", cases=300, seed=5, months=1, violation_rate=0.0)
    assert _read(report.labels_path) == []


def test_amounts_reconcile_to_the_fen(region: Path) -> None:
    total: dict[str, Decimal] = {}
    for row in _read(region / "data" / "feedetail.csv"):
        total[row["setl_id"]] = total.get(row["setl_id"], Decimal(0)) + Decimal(
            row["det_item_fee_sumamt"]
        )
    for s in _read(region / "data" / "setl_list.csv"):
        assert total[s["setl_id"]] == Decimal(s["medfee_sumamt"])
        assert Decimal(s["fund_pay_sumamt"]) + Decimal(s["psn_cashpay"]) == Decimal(
            s["medfee_sumamt"]
        )


def test_planted_evidence_is_in_the_data(region: Path) -> None:
    data = region / "data"
    setl = {s["setl_id"]: s for s in _read(data / "setl_list.csv")}
    lines = {(r["setl_id"], r["feedetl_sn"]): r for r in _read(data / "feedetail.csv")}
    hilist = {h["hilist_code"]: h for h in _read(data / "hilist.csv")}
    medins = {m["medins_code"]: m for m in _read(data / "medins.csv")}
    dx = {}
    for d in _read(data / "diseinfo.csv"):
        dx.setdefault(d["setl_id"], []).append(d["diag_code"])
    checked = set()
    for lab in _read(region / "labels" / "labels.csv"):
        s = setl[lab["setl_id"]]
        cls = lab["vola_bhvr_type"]
        sns = [x for x in lab["detail"].split("|") if x]
        if cls == "FAKE":
            line = lines[(s["setl_id"], sns[0])]
            assert line["fee_ocur_time"] > s["dscg_time"]
        elif cls == "OVERPRICE":
            line = lines[(s["setl_id"], sns[0])]
            limit = Decimal(
                hilist[line["med_list_codg"]][f"pric_lv{medins[s['medins_code']]['medins_lv']}"]
            )
            assert Decimal(line["pric"]) > limit
        elif cls == "SEX":
            line = lines[(s["setl_id"], sns[0])]
            assert hilist[line["med_list_codg"]]["lmt_gend"] not in ("", s["gend"])
        elif cls == "LEVEL":
            line = lines[(s["setl_id"], sns[0])]
            assert int(hilist[line["med_list_codg"]]["lmt_medins_lv"]) > int(
                medins[s["medins_code"]]["medins_lv"]
            )
        elif cls == "SPLIT":
            first = setl[lab["detail"]]
            assert first["psn_no"] == s["psn_no"] and first["medins_code"] == s["medins_code"]
            # Planted 0–10 days after the first discharge, as the mechanism says.
            gap = date.fromisoformat(s["adm_time"][:10]) - date.fromisoformat(
                first["dscg_time"][:10]
            )
            assert 0 <= gap.days <= 10 and f"出院{gap.days}天后" in lab["mechanism"], lab
            assert s["days_rinp_flag_31"] == "1" and s["adm_way"] != "3"
        elif cls in ("UPCODE", "DXCODE"):
            assert lab["detail"] in dx[s["setl_id"]]
        checked.add(cls)
    assert {"FAKE", "OVERPRICE", "SEX", "LEVEL", "SPLIT", "UPCODE", "DXCODE"} <= checked


def test_clean_background_respects_daily_limits_and_stay_bounds(tmp_path: Path) -> None:
    report = generate(tmp_path / "data", cases=400, seed=9, months=1, violation_rate=0.0)
    setl = {s["mdtrt_id"]: s for s in _read(report.out_dir / "setl_list.csv")}
    hilist = {h["hilist_code"]: h for h in _read(report.out_dir / "hilist.csv")}
    per_day: dict[tuple[str, str, str], Decimal] = {}
    for r in _read(report.out_dir / "feedetail.csv"):
        s = setl[r["mdtrt_id"]]
        assert s["adm_time"] <= r["fee_ocur_time"] <= s["dscg_time"]
        key = (r["mdtrt_id"], r["med_list_codg"], r["fee_ocur_time"][:10])
        per_day[key] = per_day.get(key, Decimal(0)) + Decimal(r["cnt"])
    for (_, code, _), qty in per_day.items():
        limit = hilist[code]["max_cnt_day"]
        assert not limit or qty <= Decimal(limit), code


def _evidence(data: Path, name: str, prefix_col: str) -> list[tuple[str, str, str]]:
    """(prefix, evidence_type, evidence_code) of the effective table the audit reads."""
    from huiyan.kb.knowledge import effective

    table = TABLES[name]
    own = pacsv.read_csv(
        data / "knowledge" / f"{name}.csv",
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(table.columns, "string")),
    )
    rows = effective(name, table.conform(own)).to_pylist()
    return [(r[prefix_col], r["evidence_type"], r["evidence_code"]) for r in rows]


def _proves(code: str, evidence: list[tuple[str, str, str]], billed: set[str]) -> bool:
    """Whether a billed item matches an evidence row of any prefix of ``code``."""
    for prefix, kind, value in evidence:
        if not code.startswith(prefix):
            continue
        if any(b == value if kind == "item" else b.startswith("X" + value) for b in billed):
            return True
    return False


def test_unsupported_codes_and_undone_procedures_have_no_proving_line(region: Path) -> None:
    data = region / "data"
    billed: dict[str, set[str]] = {}
    for r in _read(data / "feedetail.csv"):
        billed.setdefault(r["setl_id"], set()).add(r["med_list_codg"])
    dx_ev = _evidence(data, "dx_evidence", "diag_prefix")
    ox_ev = _evidence(data, "oprn_evidence", "oprn_prefix")
    seen = set()
    for lab in _read(region / "labels" / "labels.csv"):
        cls, code = lab["vola_bhvr_type"], lab["detail"]
        if cls == "UPCODE" or (cls == "DXCODE" and "无治疗证据" in lab["mechanism"]):
            assert not _proves(code, dx_ev, billed[lab["setl_id"]]), lab
        elif cls == "UNDERSVC":
            assert not _proves(code, ox_ev, billed[lab["setl_id"]]), lab
        else:
            continue
        seen.add(cls)
    assert seen == {"UPCODE", "DXCODE", "UNDERSVC"}


def test_unbundled_components_cost_more_than_the_bundle(region: Path) -> None:
    lines = {(r["setl_id"], r["feedetl_sn"]): r for r in _read(region / "data" / "feedetail.csv")}
    labels = [
        r for r in _read(region / "labels" / "labels.csv") if r["vola_bhvr_type"] == "UNBUNDLE"
    ]
    assert labels
    for lab in labels:
        parts = sum(
            Decimal(lines[(lab["setl_id"], sn)]["det_item_fee_sumamt"])
            for sn in lab["detail"].split("|")
        )
        assert 0 < Decimal(lab["amount"]) <= parts, lab


def test_bed_hanging_amount_is_the_whole_bed_only_run(region: Path) -> None:
    from datetime import timedelta

    data = region / "data"
    setl = {s["setl_id"]: s for s in _read(data / "setl_list.csv")}
    days: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in _read(data / "feedetail.csv"):
        days.setdefault((r["setl_id"], r["fee_ocur_time"][:10]), []).append(r)

    def ward_only(setl_id: str, day: date) -> bool:
        s = setl[setl_id]
        inside = s["adm_time"][:10] < day.isoformat() < s["dscg_time"][:10]
        on = days.get((setl_id, day.isoformat()), [])
        # BEDHANG-001's definition (audit.yaml bed_chrgitm_types): only bed fees that day.
        return inside and bool(on) and all(r["med_chrgitm_type"] == "01" for r in on)

    labels = [
        r for r in _read(region / "labels" / "labels.csv") if r["vola_bhvr_type"] == "BEDHANG"
    ]
    assert labels
    for lab in labels:
        first = date.fromisoformat(lab["mechanism"][:10])
        assert ward_only(lab["setl_id"], first) and not ward_only(
            lab["setl_id"], first - timedelta(days=1)
        )
        run, d = [], first
        while ward_only(lab["setl_id"], d):
            run.append(d)
            d += timedelta(days=1)
        assert len(run) >= 3 and f"连续{len(run)}天" in lab["mechanism"], lab
        fees = sum(
            Decimal(r["det_item_fee_sumamt"])
            for x in run
            for r in days[(lab["setl_id"], x.isoformat())]
        )
        assert Decimal(lab["amount"]) == fees, lab
