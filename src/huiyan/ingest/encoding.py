"""Encoding of CSV files: detected on a sample (charset-normalizer), never assumed.

DuckDB reads UTF-8 only here (no extension downloads), so a GBK/GB18030 file is transcoded
to a temporary UTF-8 file in one streaming pass. Files are often mixed (a GBK export with a
line pasted from a UTF-8 source): each line is decoded on its own, a non-ASCII line that is
valid UTF-8 is taken as UTF-8, and bytes that fit neither encoding become U+FFFD so that the
row is quarantined instead of crashing the load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

SAMPLE_BYTES = 256 * 1024
CHUNK_BYTES = 8 * 1024 * 1024
REPLACEMENT = "\ufffd"
CANDIDATES = ("gb18030", "big5", "utf_16", "cp1252")
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "big5", "cp936"}


@dataclass(frozen=True)
class Detected:
    encoding: str  # "utf-8", "utf-8-sig" or a Python codec name
    confidence_note: str = ""

    @property
    def is_utf8(self) -> bool:
        return self.encoding in ("utf-8", "utf-8-sig")


def _cut_to_line(sample: bytes) -> bytes:
    # A sample cut mid-character would fail strict decoding; cut at the last newline.
    end = sample.rfind(b"\n")
    return sample[: end + 1] if end > 0 else sample


def detect(path: Path) -> Detected:
    """Detect the encoding of ``path`` from its first 256 KiB."""
    with path.open("rb") as fh:
        sample = _cut_to_line(fh.read(SAMPLE_BYTES))
    if sample.startswith(b"\xef\xbb\xbf"):
        return Detected("utf-8-sig")
    try:
        sample.decode("utf-8")
        return Detected("utf-8")
    except UnicodeDecodeError:
        pass
    # Candidates are those Chinese health data come in: on short samples an unrestricted
    # detector happily calls GBK text Shift-JIS.
    best = from_bytes(sample, cp_isolation=list(CANDIDATES)).best()
    guess = best.encoding.lower().replace("_", "") if best else ""
    if not guess or guess in _GB_FAMILY or guess.startswith("gb") or guess in ("utf8", "ascii"):
        # GB18030 is a superset of GB2312 and GBK: decoding with it never loses a GBK file.
        return Detected("gb18030", f"detected {guess or 'unknown'}")
    return Detected(best.encoding if best else "gb18030", f"detected {guess}")


def _decode_line(line: bytes, encoding: str) -> tuple[str, bool]:
    """Decode one line; returns the text and whether bytes had to be replaced."""
    try:
        return line.decode(encoding), False
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("utf-8"), False
    except UnicodeDecodeError:
        return line.decode(encoding, errors="replace"), True


def transcode(path: Path, dest: Path, encoding: str) -> int:
    """Write ``path`` as UTF-8 to ``dest``; returns the number of lines with replaced bytes."""
    damaged = 0
    with path.open("rb") as src, dest.open("w", encoding="utf-8", newline="") as out:
        rest = b""
        while True:
            chunk = src.read(CHUNK_BYTES)
            data = rest + chunk
            if not chunk:
                if data:
                    text, bad = _decode_line(data, encoding)
                    damaged += bad
                    out.write(text)
                break
            end = data.rfind(b"\n")
            if end < 0:
                rest = data
                continue
            block, rest = data[: end + 1], data[end + 1 :]
            if block.isascii():
                out.write(block.decode("ascii"))
                continue
            parts = []
            for line in block.splitlines(keepends=True):
                if line.isascii():
                    parts.append(line.decode("ascii"))
                    continue
                # A line valid as UTF-8 is UTF-8 (GBK text with CJK is essentially never
                # valid UTF-8, while UTF-8 CJK text often decodes as GBK mojibake).
                try:
                    parts.append(line.decode("utf-8"))
                    continue
                except UnicodeDecodeError:
                    pass
                text, bad = _decode_line(line, encoding)
                damaged += bad
                parts.append(text)
            out.write("".join(parts))
    return damaged
