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
