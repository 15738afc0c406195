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

Many listings have no leaders (LaTeX's article class sets sections without them; Word's right
tab may have none). Such a listing is taken only under a contents title ("Contents",
"Indhold"), as the run of short entries right below it: at least four end in a page number
of the document, those numbers never decrease, and the run stops at the first prose or at
the chapter heading that repeats an entry's title. A probe on 122 real PDFs found 7 such pages
under a title that the leader rule missed, and removed nothing else. A listing printed without
page numbers at all (a report's web export) is known by its entries instead: short lines under
a contents title, most of whose words are the document's later headings.
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
# Not the index titles: an index is no run of ascending page numbers.
_CONTENTS_TITLES = _TITLES - {"index", "indeks", "stikordsregister"}
MIN_ENTRIES = 3
MIN_PLAIN_ENTRIES = 4  # a listing without leaders needs more evidence
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
    return len(text.split()) <= FRAGMENT_WORDS and _ends_in_page(text, page_count)


def _ends_in_page(text: str, page_count: int) -> bool:
    match = _TRAILING_NUMBER.search(text)
    if not match:
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
    listing = _listing(blocks, pages, page_count) if pages else set()
    listing |= _plain_listings(blocks, page_count, skip=pages)
    if not listing:
        return blocks
    return [b for i, b in enumerate(blocks) if i not in listing]


def plain_contents_pages(blocks: list[Block], page_count: int) -> set[int]:
    """The pages holding a listing without leaders under a contents title."""
    return {blocks[i].page for i in _plain_listings(blocks, page_count, skip=set())}


def _plain_listings(blocks: list[Block], page_count: int, skip: set[int]) -> set[int]:
    """Indices of the blocks of listings without leaders: a contents title and the run of
    entries right below it (see the module's docstring); pages in ``skip`` are left alone."""
    out: set[int] = set()
    for i, block in enumerate(blocks):
        if block.page in skip or _flat(block.text).strip(" :").lower() not in _CONTENTS_TITLES:
            continue
        run = _plain_run(blocks, i + 1, block.page, page_count) or _echo_run(
            blocks, i + 1, block.page
        )
        if run:
            out |= {i, *run}
            # the page's own number, wherever the layout put it
            out |= {
                j
                for j, b in enumerate(blocks)
                if b.page == block.page and _ONLY_NUMBERS.match(_flat(b.text))
            }
    return out


def _plain_run(blocks: list[Block], start: int, page: int, page_count: int) -> list[int]:
    """The entries from ``start`` on ``page`` up to the last one ending in a page number, if
    they make a listing: enough numbered entries, numbers never decreasing."""
    run: list[int] = []
    numbers: list[int] = []
    numbered = 0
    last = -1
    titles: set[str] = set()
    i = start
    while i < len(blocks) and blocks[i].page == page:
        block = blocks[i]
        text = _flat(_LEADER.sub(" ", block.text))
        if block.kind == "table" or not _short_entries(text):
            break
        bare = _TRAILING_NUMBER.sub("", text).strip().lower()
        if bare and bare in titles:
            break  # the first chapter's heading repeats its entry: the listing has ended
        if _ONLY_NUMBERS.match(text) or _entry(block) or _ends_in_page(text, page_count):
            numbers += [int(n) for n in _LEADER_NUMBER.findall(block.text)]
            trailing = _TRAILING_NUMBER.search(text)
            if trailing and trailing.group(1).isdigit() and not _LEADER_NUMBER.search(block.text):
                numbers.append(int(trailing.group(1)))
            numbered += 1
            last = len(run)
            titles.add(bare)
        elif not _is_fragment(block):
            break
        run.append(i)
        i += 1
    if numbered < MIN_PLAIN_ENTRIES or numbers != sorted(numbers):
        return []
    return run[: last + 1]


def _echo_run(blocks: list[Block], start: int, page: int) -> list[int]:
    """The short blocks from ``start`` on ``page`` up to the last that repeats a heading of
    a later page, if at least ``MIN_PLAIN_ENTRIES`` later headings are repeated and they make
    up most of the run's words: a listing printed without page numbers."""
    later = {
        key
        for b in blocks
        if b.page > page and b.kind == "heading" and len(key := _heading_key(b.text)) >= 6
    }
    if len(later) < MIN_PLAIN_ENTRIES:
        return []
    run: list[int] = []
    echoed: set[str] = set()
    last = -1
    i = start
    filled = True  # the short blocks run to the page's end: the listing fills the page
    while i < len(blocks) and blocks[i].page == page:
        block = blocks[i]
        # entries the layout ran together into one block may pass a single entry's length
        if block.kind == "table" or len(block.text.split()) > 2 * FRAGMENT_WORDS:
            filled = False
            break
        found = {h for h in later if h in _heading_key(block.text)}
        if found:
            echoed |= found
            last = len(run)
        run.append(i)
        i += 1
    head = run[: last + 1]
    words = sum(len(_heading_key(blocks[j].text).split()) for j in head)
    if len(echoed) < MIN_PLAIN_ENTRIES or 2 * sum(len(h.split()) for h in echoed) < words:
        return []
    # Past the last echo: the rest of the listing if it fills the page (a document cut short
    # lacks the later headings), else perhaps the first chapter, which stays.
    return run if filled else head


def _heading_key(text: str) -> str:
    """A heading as a listing repeats it: without its section number, lower case."""
    return " ".join(_SECTION_NUMBER.sub("", _flat(text) + " ").split()).lower()


def _short_entries(text: str) -> bool:
    """Short enough for one entry, or for a few run together on one line ("2.1 Logos 2 2.2
    Fractions 3 …": every fifth word or more a number, ending in one)."""
    words = text.split()
    if len(words) <= FRAGMENT_WORDS:
        return True
    numbers = sum(1 for w in words if re.fullmatch(r"[\d.]+", w))
    return (
        len(words) <= 2 * FRAGMENT_WORDS
        and numbers * 5 >= len(words)
        and bool(_TRAILING_NUMBER.search(text))
    )


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
