"""Structure-aware chunking: sections from headings, sentence-bounded passages, tables and
decisions in chunks of their own, exact page and character anchors.

Every chunk is a slice of ``Document.text`` (``chunk.text == doc.text[char_start:char_end]``),
so a citation quotes exactly what the user will find in the source.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cache
from itertools import islice

from ingest.glyph_patterns import is_glyph_pattern
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
# A sentence ends after . ! ? … (and closing quotes) before space and a capital or digit; a
# line break always ends one. The pattern starts with the end mark itself, not a lookbehind,
# so the regex engine can skip ahead to candidates: eight times faster on text without any.
_SENTENCE_END_RE = re.compile(r"[.!?…\n](?:(?<=\n)\n*|[\"”»)]*\s+(?=[\"“”»(•\-–]?[A-ZÆØÅ0-9]))")
_WORD_RE = re.compile(r"\S+")
# How far back a sentence end is looked at to see whether it ends an abbreviation: the
# longest abbreviation is a few characters, and looking further makes "nr. 1 nr. 2 …" (a
# run of abbreviations without a sentence end) quadratic.
_ABBREVIATION_WINDOW = 32
# Words a decision (DECISION_RE) cannot do without, lower-cased: a block holding none of them
# is not searched with that regex, which costs seconds on a block of megabytes.
_DECISION_STEMS = (
    "beslut", "indstil", "afgørelse", "konklusion", "vedt", "godkend", "tiltråd", "anbefal",
)  # fmt: skip

# A decision or recommendation on record. Present-tense and passive forms ("besluttes",
# "godkendes") describe procedure rather than record a decision, so they are left out.
# "Indstiller" recommends only with what is recommended ("indstiller, at …", "indstiller til
# KKR, at …", "indstiller til godkendelse"): alone it means "sets" ("Indstiller
# visningsegenskaberne", all 9 decisions found in 400 pages of the LibreOffice help).
DECISION_RE = re.compile(
    r"(?:^|\n)\s*(?:beslutning|indstilling|afgørelse|konklusion|vedtagelse)\s*:"
    r"|\b(?:besluttede|besluttet|vedtog|vedtaget|godkendte|godkendt|tiltrådte|tiltrådt"
    r"|anbefalede)\b"
    r"|\b(?:indstiller|indstillede)(?:\s+til\s+[^,.:\n]{1,60}?)?\s*[,:]?\s+(?:[-–•]\s*)?"
    r"(?:at|til\s+(?:godkendelse|beslutning|vedtagelse))\b",
    re.IGNORECASE,
)
# A finite verb opening its sentence with a person after it is a condition or a question, not
# a record: "Besluttede du dig for kun at bruge RAM, …" (if you decided; the GIMP help). Minutes
# write a decision with its body first ("KKR besluttede …") or telegraphically, without one
# ("Besluttede at godkende …", "Godkendte de nye takster": so "de", "den", "i" are no persons
# here).
_CONDITION_RE = re.compile(
    r"(?:^|[.!?]\s+|\n\s*)(besluttede|vedtog|godkendte|tiltrådte|anbefalede)\s+"
    r"(?:du|man|vi|jeg|han|hun)\b",
    re.IGNORECASE,
)
# After an article the same form is an adjective: "den anbefalede metode", "den godkendte
# rammeaftale" name a thing, they record no decision (the LibreOffice help's two left). Not
# after "de", which is also "they": "de anbefalede, at …".
_ADJECTIVE_RE = re.compile(
    r"\b(?:den|det|denne|dette|disse|sin|sit|sine)\s+"
    r"(besluttede|godkendte|tiltrådte|anbefalede)\b",
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
        self.patterns_left_out = 0  # passages of a drawing's glyph pattern, last ``chunk``
        # A decision is kept whole up to this size; longer ones are split at sentences.
        self.decision_max = int(self.max * 1.5)

    def chunk(self, doc: Document) -> list[Chunk]:
        spans: list[tuple[int, int, ChunkKind, str, Block | None]] = []
        for section, lead, blocks in _sections(doc.blocks):
            spans.extend(self._section_spans(doc, section, lead, blocks))
        spans = self._merge_small(doc, spans)
        block_starts = [b.char_start for b in doc.blocks]
        context: _DecisionContext | None = None  # dates and headings, found once
        # A chunk inside one block takes the language found for the block's first such
        # chunk: a paragraph is in one language, and langdetect costs 10–100 ms a call, which
        # for a block of millions of words (a text on one line) would dwarf all else.
        block_lang: dict[int, str] = {}
        chunks = []
        self.patterns_left_out = 0
        for ordinal, (start, end, kind, section, _) in enumerate(spans):
            text = doc.text[start:end]
            if is_glyph_pattern(text):  # the document keeps the text; the index does not
                self.patterns_left_out += 1
                continue
            i_first = _block_index(block_starts, start)
            i_last = _block_index(block_starts, end - 1)
            first, last = doc.blocks[i_first], doc.blocks[i_last]
            decision_date = decision_body = None
            if kind == "decision":
                if context is None:
                    context = _DecisionContext(doc)
                decision_date, decision_body = context.of(start, end)
            if i_first == i_last and i_first in block_lang:
                lang = block_lang[i_first]
            else:
                lang = detect_chunk_language(text, doc.lang)
                if i_first == i_last:
                    block_lang[i_first] = lang
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
                    lang=lang,
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
            # ``head`` walks through ``pending`` instead of slicing it after every chunk,
            # which made a block of n units cost n² (a 30 MB line is 45,000 units).
            nonlocal pending, carried, lead_start
            head = 0
            while len(pending) - head > carried:
                take, words = 0, 0
                for unit in islice(pending, head, None):
                    # Always take at least one new unit, so overlap never stands alone.
                    if take > carried and words + unit.words > self.max:
                        break
                    take += 1
                    words += unit.words
                    if take > carried and words >= self.target:
                        break
                if not final and head + take == len(pending) and words < self.target:
                    pending = pending[head:]
                    return  # wait for more text
                group = pending[head : head + take]
                start = lead_start if lead_start is not None else group[0].start
                lead_start = None
                out.append((start, group[-1].end, "text", section, None))
                more = head + take < len(pending)
                tail = self._overlap(group) if more else []
                # The overlap is the end of this group: it stays in place, now carried.
                head, carried = head + take - len(tail), len(tail)
            pending, carried = [], 0

        i = 0
        while i < len(blocks):
            block = blocks[i]
            if block.kind == "table":
                # A short paragraph just before the table is its label: it opens the table's
                # chunk rather than trailing the text before it.
                label, label_start = blocks[i - 1] if i else None, None
                if (
                    label is not None and label.kind == "text"
                    and _count_words(doc.text, label.char_start, label.char_end) < self.min_words
                    and len(pending) > carried and pending[-1].end == label.char_end
                ):  # fmt: skip
                    k = len(pending)
                    while k > carried and pending[k - 1].start >= label.char_start:
                        k -= 1
                    pending, label_start = pending[:k], label.char_start
                emit_text(final=True)
                if lead_start is None:
                    lead_start = label_start
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
            pending.extend(self._units(doc.text, block.char_start, block.char_end))
            emit_text(final=False)
            i += 1
        emit_text(final=True)
        if lead_start is not None and not out:
            # A section with headings and nothing else: index the headings themselves.
            out.append((lead_start, lead[-1].char_end, "text", section, None))
        return out

    def _merge_small(self, doc: Document, spans: list) -> list:
        """Fold text chunks under ``min_words`` into a neighbouring text chunk, or into the
        table right after them.

        Slide-like material has many headings with a line or two under each; alone, such
        a scrap is a poor passage to find or to read. The merged chunk keeps the section
        of its larger part and stays a contiguous slice of the document.
        """

        def words(start: int, end: int) -> int:
            return _count_words(doc.text, start, end)

        out: list = []
        prev_words = 0  # words of out[-1], counted once
        for i, span in enumerate(spans):
            span_words = words(span[0], span[1])
            after = spans[i + 1] if i + 1 < len(spans) else None
            labels_table = (
                span_words < self.min_words and after is not None and after[2] == "table"
                and after[3] == span[3]
            )  # fmt: skip
            if out and not labels_table:
                prev = out[-1]
                small = prev_words < self.min_words or span_words < self.min_words
                if small and prev[2] == "text" and span[2] == "text":
                    end = max(prev[1], span[1])
                    merged_words = words(prev[0], end)
                    if merged_words <= self.max:
                        section = prev[3] if prev_words >= span_words else span[3]
                        out[-1] = (prev[0], end, "text", section, None)
                        prev_words = merged_words
                        continue
            if out:
                prev = out[-1]
                # A scrap of text just before a table is its label ("[NatNum9]", "Eksempel:"):
                # it opens the table's chunk instead of standing alone.
                label = prev[2] == "text" and prev_words < self.min_words and prev[3] == span[3]
                if label and span[2] == "table" and prev_words + span_words <= self.decision_max:
                    out[-1] = (prev[0], span[1], "table", span[3], span[4])
                    prev_words += span_words
                    continue
            out.append(span)
            prev_words = span_words
        return out

    def _units(self, text: str, start: int, end: int) -> list[Unit]:
        """Sentences of ``text[start:end]``; a "sentence" longer than a chunk is cut between
        words."""
        units: list[Unit] = []
        for unit in _sentence_units(text, start, end):
            if unit.words <= self.max:
                units.append(unit)
            else:
                units.extend(_word_pieces(text, unit.start, unit.end, self.target))
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
        """A table is one chunk; a very long one is split between rows, and a row longer
        than a chunk (a cell holding a whole text) between words."""
        rows: list[tuple[int, int, int]] = []
        for s, e, n in _line_spans(block):
            if n > self.decision_max:
                local = block.text, s - block.char_start, e - block.char_start
                pieces = _word_pieces(*local, self.target, offset=block.char_start)
                rows.extend((u.start, u.end, u.words) for u in pieces)
            else:
                rows.append((s, e, n))
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
        units = self._units(doc.text, start, end)
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
    if block.kind != "text":
        return False
    lowered = block.text.lower()
    if not any(stem in lowered for stem in _DECISION_STEMS):
        return False
    return decision_match(block.text) is not None


def decision_match(text: str) -> re.Match[str] | None:
    """The first wording of ``text`` that records a decision or recommendation, if any."""
    not_records = {m.start(1) for r in (_CONDITION_RE, _ADJECTIVE_RE) for m in r.finditer(text)}
    return next((m for m in DECISION_RE.finditer(text) if m.start() not in not_records), None)


def _sentence_units(text: str, start: int, end: int):
    pos = start
    for m in _SENTENCE_END_RE.finditer(text, start, end):
        mark = m.group()
        gap = mark if mark[0] == "\n" else mark[1:]  # the end mark stays with its sentence
        cut = m.end() - len(gap)
        if gap.startswith("\n") or not _ends_with_abbreviation(text, pos, cut):
            if cut > pos:
                yield _unit(text, pos, cut)
            pos = m.end()
    if pos < end:
        yield _unit(text, pos, end)


def _ends_with_abbreviation(text: str, start: int, cut: int) -> bool:
    before = text[max(start, cut - _ABBREVIATION_WINDOW) : cut].rstrip('"”»)')
    if not before.endswith("."):
        return False
    words = before[:-1].split()
    last = words[-1] if words else ""
    return last.lower() in _ABBREVIATIONS or (last.isdigit() and len(last) <= 2)


def _unit(text: str, start: int, end: int) -> Unit:
    # Trim whitespace so spans start and end on text.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Unit(start, end, _count_words(text, start, end))


_COUNT_PIECE = 1 << 20


def _count_words(text: str, start: int, end: int) -> int:
    """Words in ``text[start:end]``, a megabyte at a time: never a list of millions of words."""
    count = 0
    while start < end:
        stop = min(end, start + _COUNT_PIECE)
        while stop < end and not text[stop].isspace():  # never cut a word in two
            stop += 1
        count += len(text[start:stop].split())
        start = stop
    return count


@cache
def _piece_re(words: int) -> re.Pattern[str]:
    return re.compile(rf"\S+(?:\s+\S+){{{words - 1}}}")


def _word_pieces(text: str, start: int, end: int, size: int, offset: int = 0) -> list[Unit]:
    """``text[start:end]`` cut into units of ``size`` words (the last may be shorter), in one
    regex pass: for a "sentence" of millions of words (a text on one line without a full
    stop) neither a list of its words nor a rescan per piece is affordable."""
    pieces = []
    pattern = _piece_re(size)
    pos = start
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return pieces
        match = pattern.match(text, pos, end)
        if match is None:  # fewer than ``size`` words left
            rest = _unit(text, pos, end)
            pieces.append(Unit(rest.start + offset, rest.end + offset, rest.words))
            return pieces
        pieces.append(Unit(match.start() + offset, match.end() + offset, size))
        pos = match.end()


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


class _DecisionContext:
    """Meeting date and deciding body of decision passages, for one document.

    The date is the meeting's: the last date before the passage that the text introduces
    as a meeting date ("Mødedato: …", "mødet den …"); else the first date in the passage;
    else the last date earlier in its section. A deadline inside a decision ("frist den
    15. oktober") is not the meeting date, which is why labelled dates come first.
    Dates and headings are found once and searched by bisection, so a document with many
    decisions and dates costs n log n, not decisions × dates.
    """

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        dates = find_dates(doc.text)  # (offset, iso), in text order
        self.offsets = [offset for offset, _ in dates]
        self.isos = [iso for _, iso in dates]
        labelled = [
            (offset, iso)
            for offset, iso in dates
            if _MEETING_CUE_RE.search(doc.text[max(0, offset - 25) : offset])
        ]
        self.labelled_offsets = [offset for offset, _ in labelled]
        self.labelled_isos = [iso for _, iso in labelled]
        self.heading_starts = [b.char_start for b in doc.blocks if b.kind == "heading"]

    def of(self, start: int, end: int) -> tuple[str | None, str | None]:
        text = self.doc.text[start:end]
        date = None
        i = bisect.bisect_left(self.labelled_offsets, start)
        if i:
            date = self.labelled_isos[i - 1]
        if date is None:
            j = bisect.bisect_left(self.offsets, start)
            if j < len(self.offsets) and self.offsets[j] < end:
                date = self.isos[j]
        if date is None:
            before = bisect.bisect_left(self.offsets, start)
            if before and self.offsets[before - 1] >= self._section_start(start):
                date = self.isos[before - 1]
        body = None
        verb = decision_match(text)
        bodies = list(BODY_RE.finditer(text))
        if bodies:
            before_verb = [b for b in bodies if verb and b.start() < verb.start()]
            body = (before_verb[-1] if before_verb else bodies[0]).group()
        return date, body

    def _section_start(self, offset: int) -> int:
        """Start of the nearest heading before ``offset`` (or of the document)."""
        i = bisect.bisect_left(self.heading_starts, offset)
        return self.heading_starts[i - 1] if i else 0
