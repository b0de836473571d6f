"""``kb verify`` checks the installed data folders against ``kb/data/datasets.yaml``."""

from __future__ import annotations

from pathlib import Path

import pytest

from huiyan.kb import manifest


def _folder(root: Path, name: str, files: dict[str, str]) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    lines = [f"name: {name}", 'version: "1"', "files:"]
    for file, text in files.items():
        (folder / file).write_text(text, encoding="utf-8")
        lines.append(f"  {file}: {manifest.sha256(folder / file)}")
    (folder / manifest.MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(manifest, "data_root", lambda: tmp_path)
    _folder(tmp_path, "drg/a", {"scheme.json": "{}"})
    return tmp_path


def test_declared_and_present_passes(root: Path) -> None:
    (root / manifest.DECLARED).write_text("datasets:\n  - drg/a\n", encoding="utf-8")
    assert manifest.verify() == []


def test_a_declared_folder_missing_fails(root: Path) -> None:
    (root / manifest.DECLARED).write_text("datasets:\n  - drg/a\n  - drg/b\n", encoding="utf-8")
    assert manifest.verify() == ["drg/b/manifest.yaml: 数据集缺失 declared data set missing"]


def test_an_undeclared_folder_fails(root: Path) -> None:
    _folder(root, "lk/x", {"a.csv": "code\n"})
    (root / manifest.DECLARED).write_text("datasets:\n  - drg/a\n", encoding="utf-8")
    assert manifest.verify() == ["lk/x: 未在 datasets.yaml 中登记 data set not declared"]


def test_the_shipped_list_names_every_shipped_folder() -> None:
    assert sorted(manifest.declared()) == sorted(d.folder for d in manifest.datasets())
    assert "drg/chs-drg-1.0" in manifest.declared()
