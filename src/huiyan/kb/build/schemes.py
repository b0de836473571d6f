"""Regenerate the delta folders of the DRG schemes from full reference folders.

Run from the repository root (developers only; the package never reads the reference)::

    python -m huiyan.kb.build.schemes [--reference ../shared/reference] [NAME ...]

For each scheme of ``schemes.yaml`` (all, or the NAMEs given) it rewrites
``kb/data/drg/<name>/``: ``scheme.delta.json`` against the inherited scheme, one
``<table>.delta.tsv`` per changed table (a full table where a delta would be larger or would
not read to the same mapping), the reference README and verification record, and
``manifest.yaml`` with the metadata of ``schemes.yaml``, the sha256 of every file and, under
``resolved``, the content digests of the full verified tables (``kb verify`` recomputes them
from the applied deltas).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from huiyan.kb import scheme_delta as sd
from huiyan.kb.manifest import sha256
from huiyan.kb.schemes import TABLE_ROLES, delta_name, read_tsv_file

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "drg"
DEFAULT_REFERENCE = HERE.parents[3].parent / "shared" / "reference"
COPIED = ("README.md", "verification.json")
HEADER = (
    "# Scheme manifest written by `python -m huiyan.kb.build.schemes` from kb/build/schemes.yaml.\n"
    "# Files hold the changes against `inherits` (kb/scheme_delta.py); `resolved` holds the\n"
    "# content digests of the full tables the scheme was verified with.\n"
)


def _logic(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "scheme.json").read_text("utf-8"))


def resolved_digests(logic: dict[str, Any], tables: dict[str, tuple[list[str], sd.Rows]]) -> dict:
    """``scheme.json`` and per-table content digests of a full scheme."""
    out = {"scheme.json": sd.logic_digest(logic)}
    for role in TABLE_ROLES:
        header, rows = tables[role]
        out[logic["tables"][role]] = sd.table_digest(header, rows)
    return out


def _tables(folder: Path, logic: dict[str, Any]) -> dict[str, tuple[list[str], sd.Rows]]:
    return {role: read_tsv_file(folder / logic["tables"][role]) for role in TABLE_ROLES}


def build(name: str, entry: dict[str, Any], common: dict[str, Any], reference: Path) -> Path:
    """Write ``kb/data/drg/<name>/`` from ``reference/<name>``; returns the folder."""
    src, parent_src = reference / name, reference / entry["inherits"]
    logic, parent_logic = _logic(src), _logic(parent_src)
    out = DATA / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    delta = sd.diff_logic(parent_logic, logic)
    (out / "scheme.delta.json").write_text(sd.dumps(delta), encoding="utf-8")
    tables = _tables(src, logic)
    parent_tables = _tables(parent_src, parent_logic)
    for role in TABLE_ROLES:
        filename = logic["tables"][role]
        header, rows = tables[role]
        p_header, p_rows = parent_tables[role]
        if header == p_header and rows == p_rows:
            continue
        drows = sd.diff_rows(p_rows, rows)
        applied = sd.apply_rows(p_rows, drows)
        if header == p_header and len(drows) < len(rows) and sd.same_mapping(applied, rows):
            _write_tsv(out / delta_name(filename), ["op", *header], drows)
        else:
            shutil.copyfile(src / filename, out / filename)
    for filename in COPIED:
        shutil.copyfile(src / filename, out / filename)
    manifest = {
        "name": name,
        "version": entry["version"],
        "title": entry["title"],
        "region": entry["region"],
        "region_en": entry["region_en"],
        "year": entry["year"],
        "effective_from": entry["effective_from"],
        "effective_to": entry.get("effective_to"),
        "kind": "DRG grouping scheme",
        "source": {**common["source"], "package": entry["package"]},
        "license": common["source"]["license"],
        "attribution": f"OpenDRG/DRG_Python {entry['package']} (Apache-2.0)",
        "inherits": entry["inherits"],
        "resolved": resolved_digests(logic, tables),
        "files": {p.name: sha256(p) for p in sorted(out.iterdir())},
    }
    text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False)
    (out / "manifest.yaml").write_text(HEADER + text, encoding="utf-8")
    return out


def _write_tsv(path: Path, header: list[str], rows: sd.Rows) -> None:
    lines = ["\t".join(header)] + ["\t".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    config = yaml.safe_load((HERE / "schemes.yaml").read_text("utf-8"))
    names = args.names or list(config["schemes"])
    for name in names:
        folder = build(name, config["schemes"][name], config, args.reference)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"{name}: {size / 1024:,.0f} KiB")  # noqa: T201 - build tool output


if __name__ == "__main__":
    main()
