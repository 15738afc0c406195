"""Structure-aware chunking: sections from headings, sentence-bounded passages, tables and
decisions in chunks of their own, exact page and character anchors.

Every chunk is a slice of ``Document.text`` (``chunk.text == doc.text[char_start:char_end]``),
so a citation quotes exactly what the user will find in the source.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ingest.language import detect_chunk_language
from ingest.metadata import find_dates
from ops_search.config import Settings
from ops_search.models import Block, Chunk, ChunkKind, Document

SECTION_SEP = " > "

# Words that end in a full stop without ending a sentence (Danish abbreviations).
_ABBREVIATIONS = {
    "fx", "f.eks", "bl.a", "jf", "nr", "kl", "ca", "dvs", "mv", "m.fl", "pkt", "stk", "evt",
    "inkl", "ekskl", "mio", "mia", "kr", "d", "s", "tlf", "hhv", "vedr", "iht", "pga", "ift",
    "osv", "etc", "dr", "st", "ang", "bl", "m.m", "mht", "o.l", "el", "prof", "cand", "adm",
}  # fmt: skip
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"”»)]*\s+(?=[\"“”»(•\-–]?[A-ZÆØÅ0-9])|\n+")
_WORD_RE = re.compile(r"\S+")

# A decision or recommendation on record. Present-tense and passive forms ("besluttes",
# "godkendes") describe procedure rather than record a decision, so they are left out.
DECISION_RE = re.compile(
    r"(?:^|\n)\s*(?:beslutning|indstilling|afgørelse|konklusion|vedtagelse)\s*:"
    r"|\b(?:besluttede|besluttet|vedtog|vedtaget|godkendte|godkendt|tiltrådte|tiltrådt"
    r"|indstiller|indstillede|anbefalede)\b",
    re.IGNORECASE,
)
_LABEL_ONLY_RE = re.compile(r"^\s*(?:beslutning|indstilling|afgørelse|konklusion)\s*:?\s*$", re.I)
BODY_RE = re.compile(
    r"\b(?:KKR(?:\s+(?:Sjælland|Hovedstaden|Syddanmark|Midtjylland|Nordjylland))?"
    r"|Kommunekontaktråd(?:et)?(?:\s+(?:Sjælland|Hovedstaden|Syddanmark|Midtjylland|Nordjylland))?"
    r"|Kommunalbestyrelsen|Byrådet|Borgerrepræsentationen|Regionsrådet|Forretningsudvalget"
    r"|Kommunaldirektørkredsen|K17|Styregruppen|Bestyrelsen|Direktionen"
    r"|[A-ZÆØÅ][a-zæøå]+udvalget)\b"
)


@dataclass
class Unit:
    """A sentence (or line) of a block, as a span of the document text."""

    start: int
    end: int
    words: int


class Chunker:
    """Turn a Document into Chunks. Sizes come from settings (words, not tokens: e5 reads
    at most 512 tokens and Danish runs ≈1.4 tokens per word, so ≈300 words is the cap)."""

    def __init__(self, settings: Settings) -> None:
        self.target = settings.chunk_words
        self.max = max(settings.chunk_max_words, settings.chunk_words)
        self.overlap = settings.chunk_overlap_words
        self.min_words = settings.chunk_min_words
        # A decision is kept whole up to this size; longer ones are split at sentences.
        self.decision_max = int(self.max * 1.5)

    def chunk(self, doc: Document) -> list[Chunk]:
        spans: list[tuple[int, int, ChunkKind, str, Block | None]] = []
        for section, lead, blocks in _sections(doc.blocks):
            spans.extend(self._section_spans(doc, section, lead, blocks))
        spans = self._merge_small(doc, spans)
        block_starts = [b.char_start for b in doc.blocks]
        dates: list[tuple[int, str]] | None = None  # every date in the text, found once
        chunks = []
        for ordinal, (start, end, kind, section, _) in enumerate(spans):
            text = doc.text[start:end]
            i_first = _block_index(block_starts, start)
            i_last = _block_index(block_starts, end - 1)
            first, last = doc.blocks[i_first], doc.blocks[i_last]
            decision_date = decision_body = None
            if kind == "decision":
                if dates is None:
                    dates = find_dates(doc.text)
                decision_date, decision_body = _decision_context(doc, start, end, dates)
            covered = doc.blocks[i_first : i_last + 1]
            chunks.append(
                Chunk(
                    id=Chunk.id_for(doc.sha256, ordinal),
                    document_id=doc.id,
                    title=doc.title,
                    source=doc.source,
                    text=text,
                    page_start=first.page,
                    page_end=last.page,
                    section=section,
                    char_start=start,
                    char_end=end,
                    lang=detect_chunk_language(text, doc.lang),
                    kind=kind,
                    ocr=any(b.ocr for b in covered),
                    doc_type=doc.doc_type,
                    date=doc.date,
                    decision_date=decision_date,
                    decision_body=decision_body,
                )
            )
        return chunks

    # -- per section ------------------------------------------------------------------

    def _section_spans(
        self, doc: Document, section: str, lead: list[Block], blocks: list[Block]
    ) -> list[tuple[int, int, ChunkKind, str, Block | None]]:
        """Spans of one section. The section's headings open its first chunk."""
        out: list[tuple[int, int, ChunkKind, str, Block | None]] = []
        pending: list[Unit] = []  # text units not yet emitted, overlap first
        carried = 0  # how many units at the head of ``pending`` repeat the last chunk
        lead_start = lead[0].char_start if lead else None

        def emit_text(final: bool) -> None:
            nonlocal pending, carried, lead_start
            while len(pending) > carried:
                take, words = 0, 0
                for unit in pending:
                    # Always take at least one new unit, so overlap never stands alone.
                    if take > carried and words + unit.words > self.max:
                        break
                    take += 1
                    words += unit.words
                    if take > carried and words >= self.target:
                        break
                if not final and take == len(pending) and words < self.target:
                    return  # wait for more text
                group = pending[:take]
                start = lead_start if lead_start is not None else group[0].start
                lead_start = None
                out.append((start, group[-1].end, "text", section, None))
                rest = pending[take:]
                tail = self._overlap(group) if rest else []
                pending, carried = tail + rest, len(tail)
            pending, carried = [], 0

        i = 0
        while i < len(blocks):
            block = blocks[i]
            if block.kind == "table":
                emit_text(final=True)
                for start, end in self._split_table(block):
                    if lead_start is not None:
                        start, lead_start = lead_start, None
                    out.append((start, end, "table", section, block))
                i += 1
                continue
            if _is_decision(block):
                emit_text(final=True)
                j = i
                # A bare "Beslutning:" label belongs with the paragraph after it.
                while j + 1 < len(blocks) and _LABEL_ONLY_RE.match(blocks[j].text):
                    j += 1
                start = blocks[i].char_start
                if lead_start is not None:
                    start, lead_start = lead_start, None
                for s, e in self._split_decision(doc, start, blocks[j].char_end):
                    out.append((s, e, "decision", section, block))
                i = j + 1
                continue
            pending.extend(self._units(doc.text, block))
            emit_text(final=False)
            i += 1
        emit_text(final=True)
        if lead_start is not None and not out:
            # A section with headings and nothing else: index the headings themselves.
            out.append((lead_start, lead[-1].char_end, "text", section, None))
        return out

    def _merge_small(self, doc: Document, spans: list) -> list:
        """Fold text chunks under ``min_words`` into a neighbouring text chunk.

        Slide-like material has many headings with a line or two under each; alone, such
        a scrap is a poor passage to find or to read. The merged chunk keeps the section
        of its larger part and stays a contiguous slice of the document.
        """

        def words(span) -> int:
            return len(doc.text[span[0] : span[1]].split())

        out: list = []
        for span in spans:
            if out:
                prev = out[-1]
                small = words(prev) < self.min_words or words(span) < self.min_words
                both_text = prev[2] == "text" and span[2] == "text"
                merged_words = len(doc.text[prev[0] : max(prev[1], span[1])].split())
                if small and both_text and merged_words <= self.max:
                    section = prev[3] if words(prev) >= words(span) else span[3]
                    out[-1] = (prev[0], max(prev[1], span[1]), "text", section, None)
                    continue
            out.append(span)
        return out

    def _units(self, text: str, block: Block) -> list[Unit]:
        """Sentences of a block; a "sentence" longer than a chunk is cut between words."""
        units: list[Unit] = []
        for unit in _sentence_units(text, block.char_start, block.char_end):
            if unit.words <= self.max:
                units.append(unit)
                continue
            words = list(_WORD_RE.finditer(text, unit.start, unit.end))
            for i in range(0, len(words), self.target):
                piece = words[i : i + self.target]
                units.append(Unit(piece[0].start(), piece[-1].end(), len(piece)))
        return units

    def _overlap(self, group: list[Unit]) -> list[Unit]:
        """The last whole sentences of a chunk, up to ``overlap`` words, to repeat next."""
        tail: list[Unit] = []
        words = 0
        for unit in reversed(group[1:]):
            if words + unit.words > self.overlap:
                break
            tail.insert(0, unit)
            words += unit.words
        return tail

    def _split_table(self, block: Block) -> list[tuple[int, int]]:
        """A table is one chunk; a very long one is split between rows."""
        rows = _line_spans(block)
        out, start, words = [], rows[0][0], 0
        for i, (s, _e, n) in enumerate(rows):
            if words and words + n > self.decision_max:
                out.append((start, rows[i - 1][1]))
                start, words = s, 0
            words += n
        out.append((start, rows[-1][1]))
        return out

    def _split_decision(self, doc: Document, start: int, end: int) -> list[tuple[int, int]]:
        text = doc.text[start:end]
        if len(text.split()) <= self.decision_max:
            return [(start, end)]
        units = list(_sentence_units(doc.text, start, end))
        out, s, words = [], units[0].start, 0
        for i, unit in enumerate(units):
            if words and words + unit.words > self.max:
                out.append((s, units[i - 1].end))
                s, words = unit.start, 0
            words += unit.words
        out.append((s, units[-1].end))
        return out


# --- helpers -------------------------------------------------------------------------------


def _sections(blocks: list[Block]):
    """Yield (section path, leading heading blocks, content blocks) in document order."""
    stack: list[Block] = []
    lead: list[Block] = []
    content: list[Block] = []
    for block in blocks:
        if block.kind == "heading":
            if content:
                yield _path(stack), lead, content
                lead, content = [], []
            while stack and stack[-1].level >= block.level:
                stack.pop()
            stack.append(block)
            lead.append(block)
        else:
            content.append(block)
    if lead or content:
        yield _path(stack), lead, content


def sections_of(doc: Document) -> list[dict]:
    """The document's headings in order, each with its full section path."""
    out = []
    stack: list[Block] = []
    for block in doc.blocks:
        if block.kind != "heading":
            continue
        while stack and stack[-1].level >= block.level:
            stack.pop()
        stack.append(block)
        out.append(
            {
                "title": block.text,
                "path": _path(stack),
                "level": block.level,
                "page": block.page,
                "char_start": block.char_start,
            }
        )
    return out


def _path(stack: list[Block]) -> str:
    return SECTION_SEP.join(b.text for b in stack)


def _is_decision(block: Block) -> bool:
    return block.kind == "text" and bool(DECISION_RE.search(block.text))


def _sentence_units(text: str, start: int, end: int):
    pos = start
    segment = text[start:end]
    for m in _SENTENCE_END_RE.finditer(segment):
        cut = start + m.start()
        if m.group().startswith("\n") or not _ends_with_abbreviation(text, pos, cut):
            if cut > pos:
                yield _unit(text, pos, cut)
            pos = start + m.end()
    if pos < end:
        yield _unit(text, pos, end)


def _ends_with_abbreviation(text: str, start: int, cut: int) -> bool:
    before = text[start:cut].rstrip('"”»)')
    if not before.endswith("."):
        return False
    last = before[:-1].rsplit(None, 1)[-1] if before[:-1].split() else ""
    return last.lower() in _ABBREVIATIONS or (last.isdigit() and len(last) <= 2)


def _unit(text: str, start: int, end: int) -> Unit:
    # Trim whitespace so spans start and end on text.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Unit(start, end, len(_WORD_RE.findall(text[start:end])))


def _line_spans(block: Block) -> list[tuple[int, int, int]]:
    spans, pos = [], block.char_start
    for line in block.text.split("\n"):
        spans.append((pos, pos + len(line), len(line.split())))
        pos += len(line) + 1
    return spans


def _block_index(starts: list[int], offset: int) -> int:
    """Index of the block holding ``offset`` (block starts are sorted)."""
    return max(0, bisect.bisect_right(starts, offset) - 1)


_MEETING_CUE_RE = re.compile(r"(?:mødedato|mødet?|møde\s+i|dato|afholdt|afholdes)\W", re.I)


def _decision_context(
    doc: Document, start: int, end: int, dates: list[tuple[int, str]]
) -> tuple[str | None, str | None]:
    """Meeting date and deciding body of a decision passage.

    The date is the meeting's: the last date before the passage that the text introduces
    as a meeting date ("Mødedato: …", "mødet den …"); else the first date in the passage;
    else the last date earlier in its section. A deadline inside a decision ("frist den
    15. oktober") is not the meeting date, which is why labelled dates come first.
    ``dates`` are all of the document's dates (``find_dates(doc.text)``).
    """
    text = doc.text[start:end]
    before = [(offset, iso) for offset, iso in dates if offset < start]
    labelled = [
        iso
        for offset, iso in before
        if _MEETING_CUE_RE.search(doc.text[max(0, offset - 25) : offset])
    ]
    date = labelled[-1] if labelled else None
    if date is None:
        inside = [iso for offset, iso in dates if start <= offset < end]
        date = inside[0] if inside else None
    if date is None:
        section_start = _section_start(doc, start)
        in_section = [iso for offset, iso in before if offset >= section_start]
        date = in_section[-1] if in_section else None
    body = None
    verb = DECISION_RE.search(text)
    bodies = list(BODY_RE.finditer(text))
    if bodies:
        before_verb = [b for b in bodies if verb and b.start() < verb.start()]
        body = (before_verb[-1] if before_verb else bodies[0]).group()
    return date, body


def _section_start(doc: Document, offset: int) -> int:
    """Start of the nearest heading before ``offset`` (or of the document)."""
    start = 0
    for block in doc.blocks:
        if block.char_start >= offset:
            break
        if block.kind == "heading":
            start = block.char_start
    return start
