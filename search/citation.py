"""Citations: where a passage is, and a label a person can read ("KORA 2013, s. 12, afsnit 3.2")."""

from __future__ import annotations

import re

from ops_search.models import Chunk, Citation

_SECTION_NUMBER_RE = re.compile(r"^(\d+(?:\.\d+)*)\.?\s")
_SHORT_TITLE_WORDS = 6


def short_title(title: str) -> str:
    """The first words of a title, for labels; acronyms in parentheses win ("OPS")."""
    words = title.split()
    if len(words) <= _SHORT_TITLE_WORDS:
        return title
    return " ".join(words[:_SHORT_TITLE_WORDS]) + " …"


def page_label(start: int, end: int) -> str:
    return f"s. {start}" if start == end else f"s. {start}–{end}"


def section_label(section: str) -> str:
    """The innermost heading: its number if it has one, else its words (shortened)."""
    if not section:
        return ""
    last = section.split(" > ")[-1].strip().rstrip(":")
    match = _SECTION_NUMBER_RE.match(last)
    if match:
        return f"afsnit {match.group(1)}"
    words = last.split()
    return f"afsnit «{' '.join(words[:6])}{' …' if len(words) > 6 else ''}»"


def citation_for(chunk: Chunk) -> Citation:
    year = (chunk.date or "")[:4]
    parts = [f"{short_title(chunk.title)}{' ' + year if year else ''}"]
    parts.append(page_label(chunk.page_start, chunk.page_end))
    section = section_label(chunk.section)
    if section:
        parts.append(section)
    return Citation(
        document_id=chunk.document_id,
        title=chunk.title,
        source=chunk.source,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        section=chunk.section,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        label=", ".join(parts),
        collection=chunk.collection,
    )
