"""Encoding and line ends of delimited text files: decided on the whole file, never assumed.

One pass over every file (``scan``, run in the background with the content hash) tells
whether the whole file is valid UTF-8 and which line ends it uses. The store reads a UTF-8 file
with one kind of line end directly. Anything else is transcoded to a temporary UTF-8 file
with ``\\n`` line ends in one streaming pass: GBK/GB18030, Big5 and UTF-16 files, files with
``\\r``-only or mixed line ends. Which legacy encoding a non-UTF-8 file is in is decided on
all of its non-ASCII lines (strict decoding, then the share of common characters when
more than one encoding decodes them); an encoding Chinese health data does not come in
(Shift-JIS) is refused with a message naming the file instead of being stored as mojibake.
Files are often mixed (a GBK export with a line pasted from a UTF-8 source): each line is
decoded on its own, a non-ASCII line that is valid UTF-8 is taken as UTF-8, and bytes that
fit neither encoding become U+FFFD so that the row is quarantined instead of crashing the load.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from huiyan.errors import InputError

SAMPLE_BYTES = 256 * 1024
CHUNK_BYTES = 8 * 1024 * 1024
REPLACEMENT = "\ufffd"
# Legacy encodings tried, strictly, on the non-ASCII lines of a file that is not UTF-8.
# GB18030 is a superset of GB2312 and GBK: decoding with it never loses a GBK file.
LEGACY = ("gb18030", "big5", "cp932")
REFUSED = {"cp932": "Shift-JIS"}


@dataclass(frozen=True)
class FileScan:
    """What one pass over a file found: its content hash, UTF-8 validity, line ends."""

    sha256: str
    utf8: bool = True
    crlf: int = 0
    bare_cr: int = 0
    bare_lf: int = 0

    @property
    def mixed_line_ends(self) -> bool:
        """Line ends the store cannot read: ``\\r`` alone, or ``\\r\\n`` mixed with ``\\n``."""
        return self.bare_cr > 0 or (self.crlf > 0 and self.bare_lf > 0)


def scan(path: Path) -> FileScan:
    """Hash ``path`` and check, over the whole file, UTF-8 validity and its line ends."""
    h = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    cr = crlf = lf = 0
    last_cr = False
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            h.update(chunk)
            if utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            n_cr = chunk.count(b"\r")
            lf += chunk.count(b"\n")
            if n_cr or last_cr:
                cr += n_cr
                crlf += chunk.count(b"\r\n") + (last_cr and chunk.startswith(b"\n"))
            last_cr = chunk.endswith(b"\r")
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return FileScan(h.hexdigest(), utf8, crlf, cr - crlf, lf - crlf)


@dataclass(frozen=True)
class Detected:
    encoding: str  # "utf-8", "utf-8-sig" or a Python codec name
    confidence_note: str = ""
    normalise: bool = False  # line ends to rewrite as \n (transcoded even when UTF-8)

    @property
    def is_utf8(self) -> bool:
        return self.encoding in ("utf-8", "utf-8-sig")

    @property
    def direct(self) -> bool:
        """Whether the store can read the file as it is."""
        return self.is_utf8 and not self.normalise


def _utf16(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    # No BOM: text of mostly ASCII has a NUL in every other byte.
    sample = head[: len(head) // 2 * 2]
    if len(sample) >= 8:
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        if odd > len(sample) // 4 and even == 0:
            return "utf-16-le"
        if even > len(sample) // 4 and odd == 0:
            return "utf-16-be"
    return None


def detect(path: Path, found: FileScan | None = None) -> Detected:
    """The encoding of ``path``, from the whole file (``found``: its ``scan``, if done)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if wide := _utf16(head):
        return Detected(wide, "BOM or NUL pattern", normalise=True)
    found = found or scan(path)
    bom = head.startswith(b"\xef\xbb\xbf")
    if found.utf8:
        return Detected("utf-8-sig" if bom else "utf-8", normalise=found.mixed_line_ends)
    return _legacy(path)


def _legacy(path: Path) -> Detected:
    """The legacy encoding of a file that is not all UTF-8, decided on its non-UTF-8 lines.

    Lines valid as UTF-8 are left out: ``transcode`` decodes them as UTF-8 whatever the
    file's encoding. Of the others, a sample is decoded in each candidate; the one whose
    text is most nearly all common characters wins (a Big5 file also decodes as GBK, but
    into rare characters). A few damaged lines do not decide it; they are quarantined.
    """
    sample = bytearray()
    failing = dict.fromkeys(LEGACY, 0)
    checked = 0
    for block in _blocks(path):
        if block.isascii():
            continue
        for line in block.split(b"\n"):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                continue
            except UnicodeDecodeError:
                pass
            checked += 1
            if len(sample) + len(line) < SAMPLE_BYTES:
                sample += line + b"\n"
            for e in LEGACY:
                try:
                    line.decode(e)
                except UnicodeDecodeError:
                    failing[e] += 1
    text = bytes(sample)
    # Candidates: the encodings decoding (nearly) as many lines as the best one does; a
    # damaged line or two does not rule out the true encoding.
    slack = max(1, checked // 100)
    fewest = min(failing.values())
    candidates = [e for e in LEGACY if failing[e] <= fewest + slack]
    scores = {e: _common_share(text.decode(e, errors="replace")) for e in LEGACY}
    best = max(candidates, key=lambda e: scores[e])
    usual = "gb18030" in candidates and scores[best] < scores["gb18030"] + _MARGIN
    guess = "gb18030" if usual else best
    note = ", ".join(f"{e} {scores[e]:.2f}/{failing[e]} bad" for e in LEGACY)
    if guess in REFUSED or scores[guess] < 0.5:
        name = REFUSED.get(guess, "GBK/Big5")
        raise InputError(
            f"{path}: 无法确定文件编码(疑似 {name}),请另存为 UTF-8 "
            f"/ encoding not supported or unclear (looks like {name}): save the file as UTF-8"
        )
    return Detected(guess, note, normalise=True)


# Common characters: GB2312 symbols (without kana) and level-1 hanzi, and Big5 symbols and
# frequent hanzi, whatever the encoding being judged. Text decoded in its true encoding is
# nearly all common characters (simplified or traditional); the same bytes decoded in another
# encoding land on rare characters or half-width katakana about half of the time.
_COMMON_RANGES = (("gb2312", 0xA1A1, 0xD7FE), ("big5", 0xA140, 0xC67E))
# Another encoding must be clearly better than GB18030 (the usual one) to be chosen.
_MARGIN = 0.1


@lru_cache(maxsize=65536)
def _is_common(ch: str) -> bool:
    # Kana sit in GB2312's symbol rows but not in Chinese claims data; Big5's most frequent
    # hanzi (rows A4-A5) decoded as GBK land exactly there (趙六 → 化せ).
    if "\u3040" <= ch <= "\u30ff":
        return False
    for codec, lo, hi in _COMMON_RANGES:
        try:
            code = ch.encode(codec)
        except UnicodeEncodeError:
            continue
        if len(code) == 2 and lo <= int.from_bytes(code, "big") <= hi:
            return True
    return False


def _common_share(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are common (see ``_is_common``)."""
    total = common = 0
    for ch in text:
        if ch.isascii() or ch == REPLACEMENT:  # damaged bytes judge no encoding
            continue
        total += 1
        common += _is_common(ch)
    return common / total if total else 1.0


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


def _transcode_wide(path: Path, dest: Path, encoding: str) -> int:
    # UTF-16 cannot be split on the byte \n; the text layer decodes it and turns \r\n and \r
    # into \n.
    damaged = 0
    with (
        open(path, encoding=encoding, errors="replace", newline=None) as src,
        dest.open("w", encoding="utf-8", newline="") as out,
    ):
        while text := src.read(CHUNK_BYTES // 2):
            damaged += text.count(REPLACEMENT)
            out.write(text.removeprefix("\ufeff") if not out.tell() else text)
    return damaged


def _blocks(path: Path) -> Iterator[bytes]:
    """The file in blocks of whole lines, every line end (\\r\\n, \\r, \\n) made \\n."""
    with path.open("rb") as src:
        rest = b""
        while True:
            chunk = src.read(CHUNK_BYTES)
            data = rest + chunk
            if not chunk:
                if data:
                    yield data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                return
            # A \r at the end may be the first half of \r\n: it waits for the next chunk.
            hold = b"\r" if data.endswith(b"\r") else b""
            body = data[:-1] if hold else data
            end = max(body.rfind(b"\n"), body.rfind(b"\r"))
            if end < 0:
                rest = data
                continue
            block, rest = body[: end + 1], body[end + 1 :] + hold
            yield block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def transcode(path: Path, dest: Path, encoding: str) -> int:
    """Write ``path`` as UTF-8 with \\n line ends to ``dest``; returns lines with replaced bytes."""
    if encoding.startswith("utf-16"):
        return _transcode_wide(path, dest, encoding)
    damaged = 0
    first = True
    with dest.open("w", encoding="utf-8", newline="") as out:
        for block in _blocks(path):
            if first and block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
            first = False
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
