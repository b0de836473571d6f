from __future__ import annotations

from importlib import resources

from huiyan.kb import manifest
from huiyan.kb.build import catalog as build_catalog


def test_committed_catalog_equals_regenerated():
    committed = resources.files("huiyan.kb").joinpath("data/catalog/hilist.csv").read_text("utf-8")
    assert committed == build_catalog.build()


def test_every_data_file_matches_its_manifest():
    assert manifest.verify() == []
    folders = {d.folder for d in manifest.datasets()}
    assert {"lk/nhsa-lk-2025", "drg/chs-drg-1.1", "knowledge", "catalog"} <= folders
    lk = next(d for d in manifest.datasets() if d.folder == "lk/nhsa-lk-2025")
    assert "国家医疗保障局" in lk.attribution
