"""A fresh virtual environment with huiyan installed from its wheel, outside the checkout.

Built once per session: the sdist and the wheel built from it (as an index would serve them),
then a new venv with the wheel and its runtime dependencies pinned by ``requirements.lock``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Installed:
    """The installed package: its venv, the wheel it came from, a work folder outside the repo."""

    venv: Path
    wheel: Path
    work: Path

    def huiyan(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run the installed ``huiyan`` console script in the work folder."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(COLUMNS="120", NO_COLOR="1", PYTHONIOENCODING="utf-8")
        return subprocess.run(
            [str(self.venv / "bin" / "huiyan"), *args],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail(
            "uv not found: the install tests build and install with uv (make setup installs it)"
        )
    return uv


def _run(*cmd: str | Path, cwd: Path | None = None) -> None:
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    uv = _uv()
    base = tmp_path_factory.mktemp("install")
    dist = base / "dist"
    # A copy of the tracked files: building must not depend on (or write into) the checkout.
    src = base / "src"
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    _run(uv, "build", "--out-dir", dist, src)
    (wheel,) = dist.glob("huiyan-*.whl")
    venv = base / "venv"
    _run(uv, "venv", "-q", venv, "--python", sys.executable)
    _run(
        uv,
        "pip",
        "install",
        "-q",
        "--python",
        venv / "bin" / "python",
        "-c",
        REPO / "requirements.lock",
        wheel,
    )
    work = base / "work"
    work.mkdir()
    return Installed(venv=venv, wheel=wheel, work=work)


@pytest.fixture(scope="session")
def demo(installed: Installed) -> Path:
    """``huiyan demo --cases 500`` run once with the installed package; its output folder."""
    proc = installed.huiyan("demo", "--cases", "500", "--out", "demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return installed.work / "demo"
