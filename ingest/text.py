"""Plain text and Markdown reader, with encoding detection for Danish legacy files."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.base import Extracted, PageCallback
from ingest.clean import join_lines, normalize_line, vocabulary_of
from ops_search.config import Settings
from ops_search.errors import CorruptFile, EmptyFile
from ops_search.models import Block, Format

_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_NUMBERED_HEADING_RE = re.compile(r"^\d+(?:\.\d+)*\.?\s+\S")
_FORM_FEED = "\f"


def decode_bytes(raw: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, else Latin-1.

    Danish legacy files are mostly Windows-1252; a strict UTF-8 decode fails on their
    æøå bytes, so trying UTF-8 first is safe. Latin-1 decodes anything, so it goes last.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class TextReader:
    """Paragraphs split on blank lines; pages split on form feeds; Markdown headings."""

    def __init__(self, fmt: Format = "txt") -> None:
        self.format = fmt

    def read(
        self, path: Path, settings: Settings, on_page: PageCallback | None = None
    ) -> Extracted:
        raw = path.read_bytes()
        if not raw.strip():
            raise EmptyFile(path, "empty file")
        if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise CorruptFile(path, "binary file, not text")
        text = decode_bytes(raw, path).replace("\r\n", "\n").replace("\r", "\n")
        vocab = vocabulary_of([text])
        blocks: list[Block] = []
        pages = text.split(_FORM_FEED)
        for number, page_text in enumerate(pages, start=1):
            for para in re.split(r"\n\s*\n", page_text):
                lines = [ln for ln in para.split("\n") if ln.strip()]
                if lines:
                    blocks.extend(self._para_blocks(lines, number, vocab))
            if on_page:
                on_page(number, False)
        return Extracted(format=self.format, blocks=blocks, page_count=len(pages))

    def _para_blocks(self, lines: list[str], page: int, vocab: set[str]) -> list[Block]:
        if self.format == "md":
            out: list[Block] = []
            rest: list[str] = []
            for line in lines:
                match = _MD_HEADING_RE.match(line.strip())
                if match:
                    if rest:
                        out.append(Block(kind="text", text=join_lines(rest, vocab), page=page))
                        rest = []
                    level = len(match.group(1))
                    out.append(Block(kind="heading", text=match.group(2), page=page, level=level))
                else:
                    rest.append(line)
            if rest:
                out.append(Block(kind="text", text=join_lines(rest, vocab), page=page))
            return out
        if len(lines) == 1 and _looks_like_heading(normalize_line(lines[0])):
            text = normalize_line(lines[0])
            level = text.split()[0].count(".") + 1 if _NUMBERED_HEADING_RE.match(text) else 1
            return [Block(kind="heading", text=text, page=page, level=min(level, 6))]
        # List-like paragraphs keep their lines; prose lines are joined.
        if sum(1 for ln in lines if ln.lstrip().startswith(("-", "•", "*", "–"))) >= 2:
            text = "\n".join(normalize_line(ln) for ln in lines)
        else:
            text = join_lines(lines, vocab)
        return [Block(kind="text", text=text, page=page)] if text else []


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    if not words or len(words) > 12 or len(line) > 90:
        return False
    if line[-1] in '.,;!?"”»' or "," in line:
        return False
    if line.lower().startswith(("beslutning", "indstilling")):  # decision labels, not sections
        return False
    return line[0].isupper() or bool(_NUMBERED_HEADING_RE.match(line))
