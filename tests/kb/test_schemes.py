"""Scheme data in kb: manifests, checksums, inheritance of unchanged tables."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from huiyan.errors import ConfigurationError
from huiyan.kb import schemes

REGIONAL = [
    "anyang-2021", "beijing-2022", "changsha-2023", "changzhou-2022", "chongqing-2022",
    "fuzhou-2022", "guangxi-2022", "haerbin-2022", "handan-2022", "lanzhou-2023",
    "liaocheng-2022", "linfen-2022", "qingdao-2023", "suzhou-2023", "taizhou-2022",
    "wlmq-2022", "wuhan-2022", "wuxi-2022", "yancheng-2023", "yantai-2023",
    "yinchuan-2023", "yunnan-2022", "yunnan-2023", "zhejiang-2022",
]  # fmt: skip
ALL = ["chs-drg-1.1", "chs-drg-1.0", *REGIONAL]


def test_every_verified_scheme_is_shipped():
    # REGIONAL.md: the two national versions and the 24 regional ones
    assert set(schemes.scheme_names()) == set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_manifest_names_region_year_dates_and_checksums(name):
    s = schemes.load_scheme(name)
    assert s.manifest["name"] == name
    assert s.manifest["effective_from"]
    assert s.manifest["region"] and s.manifest["title"]
    if name in REGIONAL:
        assert str(s.manifest["year"]) == name.rsplit("-", 1)[1]
        assert name.rsplit("-", 1)[1] in s.manifest["title"]
    assert schemes.verify(name) == []


@pytest.mark.parametrize("name", ALL[1:])
def test_every_other_scheme_is_stored_as_a_delta(name):
    files = set(schemes.load_scheme(name).manifest["files"])
    assert "scheme.delta.json" in files and "scheme.json" not in files
    # the national dictionaries and maps are never copied whole into a variant
    assert not {"diagnoses.tsv", "procedures.tsv", "diagnosis_map.tsv"} & files


@pytest.mark.parametrize("name", ALL)
def test_applied_delta_reproduces_the_verified_tables(name):
    # the manifest records the content digests of the full folder the scheme was verified with
    assert schemes.manifest(name)["resolved"]
    assert schemes.verify_resolved(name) == []


def test_a_regional_table_is_the_parents_plus_its_delta_rows():
    liaocheng = schemes.load_scheme("liaocheng-2022")
    national = schemes.load_scheme("chs-drg-1.1")
    assert liaocheng.manifest["inherits"] == "chs-drg-1.1"
    assert liaocheng.rows("diagnoses") == national.rows("diagnoses")  # no delta: inherited
    delta = schemes.read_tsv_file(
        resources.files("huiyan.kb").joinpath("data/drg/liaocheng-2022/or_procedures.delta.tsv")
    )[1]
    added = {r[1] for r in delta if r[0] == "+"}
    removed = {r[1] for r in delta if r[0] == "-"} - added
    assert added and removed
    codes = set(liaocheng.code_list("or_procedures"))
    assert added <= codes and not removed & codes
    assert codes == (set(national.code_list("or_procedures")) - removed) | added


def test_delta_round_trip_on_a_small_scheme():
    from huiyan.kb import scheme_delta as sd

    step = {"type": "adrg", "code": "AA1", "rule": "AA1", "condition": {"always": True}}
    parent = {
        "scheme": "p",
        "input": {"gender_valid": ["1", "2"]},
        "mdcs": [
            {"code": "MDCA", "name": "a", "entry": {"always": True}, "steps": [step]},
            {"code": "MDCB", "name": "b", "entry": {"never": True}, "steps": []},
        ],
        "lists": {"x": ["1", "2", "3"], "y": ["9"], "gone": ["7"]},
    }
    child = {
        "scheme": "c",
        "input": {"gender_valid": ["1", "2"]},
        "results": {"fail": {"drg": "0000A"}},
        "mdcs": [
            {"code": "MDCB", "name": "b", "entry": {"never": True}, "steps": []},
            {
                "code": "MDCA",
                "name": "a2",
                "entry": {"always": True},
                "steps": [{**step, "condition": {"never": True}}, {**step, "rule": "AA1_2"}],
            },
        ],
        "lists": {"x": ["3", "1", "4"], "y": ["9"], "z": ["1", "2", "3", "5"]},
    }
    delta = sd.diff_logic(parent, child)
    assert delta["set"] == {"results": {"fail": {"drg": "0000A"}}, "scheme": "c"}
    assert delta["lists"] == {
        "derived": {"z": {"from": "x", "added": ["5"]}},
        "removed": ["gone"],
        "changed": {"x": {"added": ["4"], "removed": ["2"]}},
    }
    assert delta["mdc_order"] == ["MDCB", "MDCA"]
    assert set(delta["mdcs"]["MDCA"]["steps"]) == {"AA1", "AA1_2"}
    assert sd.canonical(sd.apply_logic(parent, delta)) == sd.canonical(child)
    rows_p, rows_c = [["a", "1"], ["b", "2"]], [["b", "3"], ["c", "1"]]
    drows = sd.diff_rows(rows_p, rows_c)
    assert drows == [["-", "a", "1"], ["-", "b", "2"], ["+", "b", "3"], ["+", "c", "1"]]
    assert sd.apply_rows(rows_p, drows) == rows_c
    with pytest.raises(ValueError, match="does not have"):
        sd.apply_rows(rows_p, [["-", "z", "9"]])


def test_cells_are_verbatim():
    # Suzhou's MCC file starts with a byte-order mark that is part of the first key
    assert "\ufeffA01.100" in schemes.load_scheme("suzhou-2023").table("mcc")
    # one national map target has a leading space
    assert schemes.load_scheme("chs-drg-1.1").table("diagnosis_map")["B06.801+J17.1*"] == (
        " B06.801+J17.1*"
    )


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="chs-drg-1.1"):
        schemes.load_scheme("chs-drg-9.9")


def test_verify_reports_a_tampered_digest(monkeypatch):
    manifest = dict(schemes._manifest("chs-drg-1.0"))
    manifest["files"] = {**manifest["files"], "drgs.tsv": hashlib.sha256(b"x").hexdigest()}
    monkeypatch.setattr(schemes, "_manifest", lambda name: manifest)
    assert schemes.verify("chs-drg-1.0") == ["drgs.tsv"]


def test_complication_splits_name_the_lighter_siblings_of_each_adrg() -> None:
    from huiyan.kb.schemes import complication_splits

    splits = {r[0]: r[1:] for r in complication_splits("chs-drg-1.1")}
    assert splits["ES31"] == ("mcc", "ES33", "ES35")
    assert splits["ES33"] == ("cc", None, "ES35")
    assert splits["GB11"] == ("mcc", None, "GB15")
    assert "ES35" not in splits  # the DRG without complications is nobody's heavier sibling


def test_complication_splits_follow_first_match_in_a_scheme_with_unreachable_drgs() -> None:
    # Liaocheng 2022 (transcribed from OpenDRG) lists some lighter DRGs first. The grouper takes
    # the first DRG whose condition holds, so PK11 without its MCC groups to PK15 (listed
    # before PK13), and AH11, YC13 and YC11 are never reached: no case in them to audit.
    splits = {r[0]: r[1:] for r in schemes.complication_splits("liaocheng-2022")}
    assert splits["PK11"] == ("mcc", None, "PK15")
    assert not {"PK13", "AH11", "YC13", "YC11"} & splits.keys()


def test_complication_splits_are_read_by_what_the_conditions_select(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A regional scheme may word the same split differently: the grouper takes the first DRG
    # whose condition holds, so "has_cc" after "has_mcc" selects what "MCC or CC" selects.
    mcc, cc = {"has_mcc": True}, {"has_cc": True}
    steps = [
        [("XA11", mcc), ("XA13", {"any": [cc, mcc]}), ("XA15", {"always": True})],
        [("XB11", mcc), ("XB13", cc), ("XB15", {"not": {"never": True}})],
        [("XC13", {"any": [mcc, cc]}), ("XC15", {"all": [{"not": mcc}, {"not": cc}]})],
        # Looks at age too: neither it nor the DRGs after it can be read as a split.
        [("XD11", mcc), ("XD13", {"all": [cc, {"age_ge": 65}]}), ("XD15", {"always": True})],
    ]
    logic = {
        "mdcs": [{"steps": [{"drgs": [{"code": c, "condition": k} for c, k in s]} for s in steps]}]
    }
    scheme = schemes.Scheme(name="regional", manifest={}, logic=logic)
    monkeypatch.setattr(schemes, "load_scheme", lambda name: scheme)
    schemes.complication_splits.cache_clear()
    try:
        splits = {r[0]: r[1:] for r in schemes.complication_splits("regional")}
    finally:
        schemes.complication_splits.cache_clear()
    assert splits == {
        "XA11": ("mcc", "XA13", "XA15"),
        "XA13": ("cc", None, "XA15"),
        "XB11": ("mcc", "XB13", "XB15"),
        "XB13": ("cc", None, "XB15"),
        "XC13": ("cc", None, "XC15"),
        "XD11": ("mcc", None, None),
    }


def test_counts_follow_regional_md():
    from huiyan.kb.scheme_info import counts

    # REGIONAL.md: Liaocheng 26 MDCs, 365 ADRGs, 672 DRGs (unreachable tests counted);
    # Yinchuan has no MDCY, MDCZ
    assert vars(counts(schemes.load_scheme("liaocheng-2022").logic)) == {
        "mdcs": 26, "adrgs": 365, "drgs": 672,
    }  # fmt: skip
    assert counts(schemes.load_scheme("yinchuan-2023").logic).mdcs == 24


def test_counts_equal_the_table_of_regional_md(reference_data):
    import re

    from huiyan.kb.scheme_info import counts

    pattern = re.compile(r"\| `([a-z0-9.-]+)/` \|[^|]*\|[^|]*\| (\d+) \| (\d+) \| ([\d,]+) \|")
    table = {}
    for line in (reference_data / "REGIONAL.md").read_text("utf-8").splitlines():
        if m := pattern.match(line):
            table[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4).replace(",", "")))
    assert set(table) == set(ALL)
    for name, expected in table.items():
        c = counts(schemes.load_scheme(name).logic)
        assert (c.mdcs, c.adrgs, c.drgs) == expected, name


def test_cli_kb_info_lists_every_scheme_and_shows_one():
    from typer.testing import CliRunner

    from huiyan.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["kb", "info"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for name in ALL:
        assert name in res.output
    assert "乌鲁木齐市" in res.output and "继承 chs-drg-1.0" in res.output
    one = runner.invoke(app, ["kb", "info", "zhejiang-2022"], env={"COLUMNS": "200"})
    assert one.exit_code == 0, one.output
    assert "浙江省" in one.output and "zhejiang-2022 → chs-drg-1.0 → chs-drg-1.1" in one.output
    assert "26 / 376 / 1,006" in one.output
    bad = runner.invoke(app, ["kb", "info", "nowhere-2020"])
    assert bad.exit_code != 0 and "未知的分组方案" in bad.output and "Traceback" not in bad.output


def test_cli_kb_diff_prints_the_changes_readably():
    from typer.testing import CliRunner

    from huiyan.cli.main import app

    runner = CliRunner()
    env = {"COLUMNS": "200"}
    res = runner.invoke(
        app,
        ["kb", "diff", "--scheme", "chs-drg-1.1", "--to", "zhejiang-2022", "--limit", "2000"],
        env=env,
    )
    assert res.exit_code == 0, res.output
    assert "retry_on_fail" in res.output  # a setting only Zhejiang has
    assert "ADRG 新增 (19)" in res.output and "ADRG 删除 (19)" in res.output
    assert "科室为 ICU" in res.output  # its ICU DRG tests, in the trace wording
    same = runner.invoke(app, ["kb", "diff", "--scheme", "yancheng-2023", "--to", "yancheng-2023"])
    assert same.exit_code == 0 and "两个方案相同" in same.output
