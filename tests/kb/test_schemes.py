"""Scheme data in kb: manifests, checksums, inheritance of unchanged tables."""

from __future__ import annotations

import hashlib

import pytest

from huiyan.errors import ConfigurationError
from huiyan.kb import schemes


def test_the_four_schemes_are_shipped():
    assert {"chs-drg-1.1", "chs-drg-1.0", "liaocheng-2022", "suzhou-2023"} <= set(
        schemes.scheme_names()
    )


@pytest.mark.parametrize("name", ["chs-drg-1.1", "chs-drg-1.0", "liaocheng-2022", "suzhou-2023"])
def test_manifest_checksums_match_the_files(name):
    s = schemes.load_scheme(name)
    assert s.manifest["name"] == name
    assert s.manifest["effective_from"]
    assert "scheme.json" in s.manifest["files"]
    assert schemes.verify(name) == []


def test_regional_scheme_inherits_unchanged_tables_from_national(shared_reference):
    liaocheng = schemes.load_scheme("liaocheng-2022")
    assert liaocheng.manifest["inherits"] == "chs-drg-1.1"
    assert liaocheng.folder_of("diagnoses.tsv").name == "chs-drg-1.1"
    assert liaocheng.folder_of("or_procedures.tsv").name == "liaocheng-2022"
    # the resolved tables equal the reference folder's verbatim files
    for role in ("diagnoses", "mcc", "or_procedures"):
        path = shared_reference / "liaocheng-2022" / f"{role}.tsv"
        expected = [line.split("\t") for line in path.read_text("utf-8").split("\n")[1:] if line]
        assert liaocheng.rows(role) == expected


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
