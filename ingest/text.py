"""Plain text and Markdown reader, with encoding detection for Danish legacy files."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.base import Extracted, PageCallback
from ingest.clean import join_lines, normalize_line, vocabulary_of
from ops_search.config import Settings
from ops_search.errors import CorruptFile, EmptyFile, IngestError
from ops_search.models import Block, Format

_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_NUMBERED_HEADING_RE = re.compile(r"^\d+(?:\.\d+)*\.?\s+\S")
_FORM_FEED = "\f"
_VOCAB_PIECE = 1 << 20


def refuse_oversized(path: Path, size: int, settings: Settings, what: str = "text") -> None:
    """Refuse ``size`` bytes (UTF-8) of ``what`` over ``settings.max_text_mb``, with a message
    naming both. Called before the expensive work: refusing must stay cheap, and a file is
    never cut short silently."""
    size_mb = size / 1e6
    if size_mb > settings.max_text_mb:
        shown = f"{size_mb:,.1f}" if size_mb >= 1 else f"{size_mb:.2g}"
        raise IngestError(
            path,
            f"{what} of {shown} MB is over the limit of {settings.max_text_mb:g} MB "
            "(OPS_MAX_TEXT_MB); not indexed",
        )


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8, without encoding it when the answer is plain from its length."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


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
        text = decode_bytes(raw, path)
        refuse_oversized(path, utf8_size(text), settings)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        pages = [
            [lines for para in re.split(r"\n\s*\n", page) if (lines := _lines(para))]
            for page in text.split(_FORM_FEED)
        ]
        # The vocabulary only judges hyphens between lines: a text of one-line paragraphs
        # (a file on one line, say) does without it.
        multiline = any(len(lines) > 1 for paras in pages for lines in paras)
        vocab = vocabulary_of(_pieces(text)) if multiline else set()
        blocks: list[Block] = []
        for number, paras in enumerate(pages, start=1):
            for lines in paras:
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
                        text = join_lines(rest, vocab)
                        out.append(Block(kind="text", text=text, page=page))
                        rest = []
                    level = len(match.group(1))
                    out.append(Block(kind="heading", text=match.group(2), page=page, level=level))
                else:
                    rest.append(line)
            if rest:
                out.append(Block(kind="text", text=join_lines(rest, vocab), page=page))
            return out
        if len(lines) == 1:
            text = normalize_line(lines[0])  # what join_lines makes of one line
            if _looks_like_heading(text):
                level = text.split()[0].count(".") + 1 if _NUMBERED_HEADING_RE.match(text) else 1
                return [Block(kind="heading", text=text, page=page, level=min(level, 6))]
            return [Block(kind="text", text=text, page=page)] if text else []
        # List-like paragraphs keep their lines; prose lines are joined.
        if sum(1 for ln in lines if ln.lstrip().startswith(("-", "•", "*", "–"))) >= 2:
            text = "\n".join(normalize_line(ln) for ln in lines)
        else:
            text = join_lines(lines, vocab)
        return [Block(kind="text", text=text, page=page)] if text else []


def _lines(paragraph: str) -> list[str]:
    return [ln for ln in paragraph.split("\n") if ln.strip()]


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    if not words or len(words) > 12 or len(line) > 90:
        return False
    if line[-1] in '.,;!?"”»' or "," in line:
        return False
    if line.lower().startswith(("beslutning", "indstilling")):  # decision labels, not sections
        return False
    return line[0].isupper() or bool(_NUMBERED_HEADING_RE.match(line))


def _pieces(text: str):
    """``text`` in pieces of about ``_VOCAB_PIECE`` characters, cut at whitespace (no word
    spans whitespace, so the vocabulary is the same): vocabulary_of then never holds the
    words of a whole 30 MB line in one list."""
    start = 0
    while start < len(text):
        end = start + _VOCAB_PIECE
        if end < len(text):
            space = text.find(" ", end)
            newline = text.find("\n", end)
            cuts = [c for c in (space, newline) if c != -1]
            end = min(cuts) if cuts else len(text)
        yield text[start:end]
        start = end
