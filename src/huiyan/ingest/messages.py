"""National interface messages (JSON lines) -> rows of the canonical tables.

4101A settlement-list upload: ``setlinfo`` + ``diseinfo[]`` + ``oprninfo[]`` (+ ``icuinfo[]``);
2301 fee-detail upload: ``feedetail[]``. A message may be wrapped in ``{"input": ...}`` (the
platform's envelope). Field names go through the model's aliases later, like any header; the
settlement id of a 4101A message is copied to its child rows, and list positions become sort
numbers where the message leaves them out. A line that is not JSON is quarantined.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from huiyan.ingest import encoding

CHILD_LISTS = {"diseinfo": "diseinfo", "oprninfo": "oprninfo", "icuinfo": "icuinfo"}
SORT_NUMBER = {"diseinfo": "diag_srt_no", "oprninfo": "oprn_srt_no"}


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_text(path: Path) -> str:
    """The file's text: UTF-8, else the encoding decided on the whole file (GBK, Big5...)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    det = encoding.detect(path)
    return data.decode(det.encoding, errors="replace").removeprefix("\ufeff")


def _loads(text: str) -> Any:
    """``json.loads``; a document nested too deep to parse is an error like any other."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text[:100], 0) from None


def _messages(path: Path) -> list[tuple[int, Any]]:
    text = _read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("[") and path.suffix.lower() == ".json":
        try:
            whole = _loads(stripped)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, list):
            return [(i + 1, m) for i, m in enumerate(whole)]
    out = []
    # Lines end at \n (and \r\n, \r) only: str.splitlines would also split at U+2028,
    # U+0085 and other characters JSON strings may hold.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for n, line in enumerate(lines, start=1):
        if line.strip():
            try:
                out.append((n, _loads(line)))
            except json.JSONDecodeError as exc:
                out.append((n, {"__bad": f"{exc.msg} (col {exc.colno})", "__line": line[:2000]}))
    return out


def _items(body: dict[str, Any], key: str) -> list[dict[str, Any]] | None:
    """The list ``key`` of a message body; None when it is not a list of objects."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return None
    return value


def parse(path: Path) -> tuple[dict[str, list[dict[str, str | None]]], list[tuple[int, str, str]]]:
    """Rows per table (each with ``__row`` = message line) and unparseable lines."""
    rows: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    bad: list[tuple[int, str, str]] = []
    for line, msg in _messages(path):
        if isinstance(msg, dict) and "__bad" in msg:
            bad.append((line, msg["__bad"], msg["__line"]))
            continue
        body = msg.get("input", msg) if isinstance(msg, dict) else None
        if not isinstance(body, dict):
            bad.append((line, "not a message object", json.dumps(msg, ensure_ascii=False)[:2000]))
            continue
        setl = body.get("setlinfo")
        lists = {key: _items(body, key) for key in (*CHILD_LISTS, "feedetail")}
        wrong = [k for k, v in lists.items() if v is None]
        if wrong or not (setl is None or isinstance(setl, dict)):
            names = ", ".join(wrong if wrong else ["setlinfo"])
            shown = json.dumps(msg, ensure_ascii=False)[:2000]
            bad.append((line, f"{names}: not a list of objects / object as required", shown))
            continue
        if isinstance(setl, dict):
            row: dict[str, str | None] = {"__row": str(line)}
            rows["setl_list"].append(row | {k: _text(v) for k, v in setl.items()})
        parent = (
            {k: _text(setl.get(k)) for k in ("setl_id", "mdtrt_id")}
            if isinstance(setl, dict)
            else {}
        )
        for key, table in CHILD_LISTS.items():
            for i, item in enumerate(lists[key] or [], start=1):
                row = {"__row": str(line), "setl_id": parent.get("setl_id")}
                row |= {k: _text(v) for k, v in item.items() if v is not None}
                if table in SORT_NUMBER:
                    row.setdefault(SORT_NUMBER[table], str(i))
                rows[table].append(row)
        for item in lists["feedetail"] or []:
            row = {
                "__row": str(line),
                "mdtrt_id": _text(body.get("mdtrt_id")) or parent.get("mdtrt_id"),
            }
            row |= {k: _text(v) for k, v in item.items() if v is not None}
            rows["feedetail"].append(row)
    return dict(rows), bad


def to_arrow(rows: list[dict[str, str | None]]) -> pa.Table:
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    return pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names})
