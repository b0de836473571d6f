"""The wheel is complete: installed into a fresh venv, huiyan verifies its data and runs the demo."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

if TYPE_CHECKING:
    from tests.install.conftest import Installed

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.wheel


def test_wheel_holds_every_tracked_package_file(installed: Installed) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "src/huiyan"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    expected = {name.removeprefix("src/") for name in tracked}
    with zipfile.ZipFile(installed.wheel) as whl:
        shipped = {n for n in whl.namelist() if n.startswith("huiyan/")}
    assert sorted(expected - shipped) == []
    declared = yaml.safe_load((REPO / "src/huiyan/kb/data/datasets.yaml").read_text("utf-8"))
    for folder in declared["datasets"]:
        assert f"huiyan/kb/data/{folder}/manifest.yaml" in shipped
    assert "huiyan/kb/data/drg/chs-drg-1.0/manifest.yaml" in shipped
    assert "huiyan/kb/data/datasets.yaml" in shipped


def test_installed_package_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    proc = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import huiyan; print(huiyan.__file__)"],
        cwd=installed.work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip().startswith(str(installed.venv))


def test_kb_verify_passes_with_every_declared_data_set(installed: Installed) -> None:
    declared = yaml.safe_load((REPO / "src/huiyan/kb/data/datasets.yaml").read_text("utf-8"))[
        "datasets"
    ]
    proc = installed.huiyan("kb", "verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(declared)} 个数据集" in proc.stdout


def test_demo_runs_and_writes_its_report(demo: Path) -> None:
    report = demo / "report.html"
    assert report.is_file()
    assert "智能审核" in report.read_text("utf-8")
