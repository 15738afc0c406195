"""Tables of contents are navigation, not content: drop them before chunking.

A printed table of contents repeats every heading of the document with dot leaders and page
numbers ("3.1 Netværk . . . . . . 8"). Indexed, it becomes passages that hold the words of
every section at once: they match any topic and crowd the real answers out of the first
results, and they carry no answer (measured: 55 of the 269 passages of the Debian Edu
manual, a real 102-page Danish PDF). Layout analysis often splits such a page into columns,
so entries arrive as fragments: leaders with a number, bare numbers, entry titles.

A page is a contents page when it has at least three leader entries and either names itself
("Indhold", "Contents", …), continues a contents page, or its entries end in ascending numbers
that fit the document's page count. That last test keeps a price list ("Timepris . . . 450")
or a form ("Navn ........") out of it. On a contents page the leader entries and the short
fragments between them go (from the listing's title to its last entry); what stands above
the listing (a title page) or below it (the first chapter), and longer text, stays.
"""

from __future__ import annotations

import re

from ops_search.models import Block

# Four or more dots, spaced or not, or a run of ellipsis characters.
_LEADER = re.compile(r"(?:\.[ \u00a0]?){4,}|…{2,}")
# A page number ending an entry, arabic or roman ("… 51", "Forord iii").
_TRAILING_NUMBER = re.compile(r"(?:^|\s)(\d{1,4}|[ivxlcdm]{1,7})\s*$", re.IGNORECASE)
_LEADER_NUMBER = re.compile(r"(?:\.[ \u00a0]?){4,}\s*(\d{1,4})\b")
_SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*|[A-Z]\.\d+(?:\.\d+)*)\.?\s")
_ONLY_NUMBERS = re.compile(r"^(?:(?:\d+|[ivxlcdm]+)[\s.]*)+$", re.IGNORECASE)
_TITLES = {
    "indhold",
    "indholdsfortegnelse",
    "indholdsoversigt",
    "contents",
    "table of contents",
    "inhalt",
    "inhaltsverzeichnis",
    "innhold",
    "innehåll",
    "sommaire",
    "table des matières",
    "index",
    "indeks",
    "stikordsregister",
    "list of figures",
    "list of tables",
    "figurliste",
    "tabelliste",
}
MIN_ENTRIES = 3
FRAGMENT_WORDS = 20  # a fragment of an entry is short; longer text on the page is content


def _flat(text: str) -> str:
    return " ".join(text.split())


def _entry(block: Block) -> bool:
    """A block holding leader entries (a table's dotted cells are the table's content)."""
    return block.kind != "table" and is_leader_entry(block.text)


def is_leader_entry(text: str) -> bool:
    """True for one or more contents entries: leader runs with little text around each."""
    runs = len(_LEADER.findall(text))
    if not runs:
        return False
    words = _LEADER.sub(" ", text).split()
    return len(words) <= FRAGMENT_WORDS * runs


def _is_title(text: str) -> bool:
    return _flat(text).strip(" :").lower() in _TITLES


def _page_numbers(entries: list[Block]) -> list[int]:
    """The numbers that follow leaders, in reading order (lines joined into one paragraph
    hold several entries)."""
    return [int(n) for block in entries for n in _LEADER_NUMBER.findall(block.text)]


def _looks_paged(entries: list[Block], page_count: int) -> bool:
    numbers = _page_numbers(entries)
    return (
        len(numbers) >= MIN_ENTRIES
        and all(1 <= n <= page_count for n in numbers)
        and numbers == sorted(numbers)
    )


def _is_fragment(block: Block) -> bool:
    text = _flat(block.text)
    if len(text.split()) > FRAGMENT_WORDS:
        return False
    return (
        block.kind == "heading"
        or _is_title(text)
        or bool(_ONLY_NUMBERS.match(text))
        or bool(_SECTION_NUMBER.match(text))
        or bool(_TRAILING_NUMBER.search(text))
    )


def _is_entry(block: Block, page_count: int) -> bool:
    """A listing's line without leaders: short, ending in a page number of this document."""
    text = _flat(block.text)
    match = _TRAILING_NUMBER.search(text)
    if len(text.split()) > FRAGMENT_WORDS or not match:
        return False
    number = match.group(1)
    return not number.isdigit() or 1 <= int(number) <= page_count


def contents_pages(blocks: list[Block], page_count: int) -> set[int]:
    """The numbers of the pages that hold a table of contents."""
    by_page: dict[int, list[Block]] = {}
    for block in blocks:
        by_page.setdefault(block.page, []).append(block)
    found: set[int] = set()
    for page in sorted(by_page):
        on_page = by_page[page]
        entries = [b for b in on_page if _entry(b)]
        if sum(len(_LEADER.findall(b.text)) for b in entries) < MIN_ENTRIES:
            continue
        named = any(_is_title(b.text) for b in on_page)
        if named or (page - 1) in found or _looks_paged(entries, page_count):
            found.add(page)
    return found


def drop_contents(blocks: list[Block], page_count: int) -> list[Block]:
    """``blocks`` without the tables of contents (see the module's docstring)."""
    pages = contents_pages(blocks, page_count)
    if not pages:
        return blocks
    listing = _listing(blocks, pages, page_count)
    return [b for i, b in enumerate(blocks) if i not in listing]


def _listing(blocks: list[Block], pages: set[int], page_count: int) -> set[int]:
    """Indices of the blocks that make up the listings on ``pages``: from the listing's title
    (or its first leader entry) to its last leader entry, the entries and the fragments
    between them. A title page above the listing and the body text starting below it on the
    same page stay; so does anything between entries that is no fragment (a paragraph)."""
    out: set[int] = set()
    for page in pages:
        on_page = [i for i, b in enumerate(blocks) if b.page == page]
        entries = [i for i in on_page if _entry(blocks[i])]
        marks = entries + [i for i in on_page if _is_title(blocks[i].text)]
        first, last = min(marks), max(entries)
        # Entries the layout set above the first leader (a chapter line "12 Opgraderinger 67"
        # on a continued listing) belong to it; a title page's lines end in no page number.
        while first - 1 in on_page and _is_entry(blocks[first - 1], page_count):
            first -= 1
        while last + 1 in on_page and _is_entry(blocks[last + 1], page_count):
            last += 1
        for i in on_page:
            block = blocks[i]
            inside = first <= i <= last and (_entry(block) or _is_fragment(block))
            # A lone page number (the listing's column of numbers, or the page's own) is no
            # content wherever the layout put it.
            if inside or _ONLY_NUMBERS.match(_flat(block.text)):
                out.add(i)
    return out
