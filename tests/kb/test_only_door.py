"""``kb`` is the only door into ``kb/data``: other packages use its API, so a regional scheme's
inheritance, the manifests and the checksums apply to every reader."""

from __future__ import annotations

from pathlib import Path

import huiyan

SRC = Path(huiyan.__file__).parent


def test_no_package_outside_kb_opens_kb_data_itself() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.parent.parts[len(SRC.parts) :][:1] != ("kb",)
        and 'files("huiyan.kb")' in p.read_text("utf-8")
    ]
    assert offenders == []
