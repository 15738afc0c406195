"""Best-effort document type and date found in the text. Either may be None; never invented."""

from __future__ import annotations

import re

from ops_search.models import DocType

MONTHS = {
    "januar": 1, "februar": 2, "marts": 3, "april": 4, "maj": 5, "juni": 6, "juli": 7,
    "august": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
    # OCR-damaged and abbreviated spellings seen in archives.
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "okt": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
# "24. september 2013", "d. 7. april 2017", "5. april 2017"
DATE_DMY_RE = re.compile(rf"\b(\d{{1,2}})\.\s*({_MONTH_ALT})\.?\s+((?:19|20)\d\d)\b", re.I)
# "14-03-2024", "14.03.2024", "14/3 2024"
DATE_NUMERIC_RE = re.compile(r"\b(\d{1,2})[-./](\d{1,2})[-./ ]((?:19|20)\d\d)\b")
DATE_ISO_RE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
# "September 2013"
DATE_MY_RE = re.compile(rf"\b({_MONTH_ALT})\s+((?:19|20)\d\d)\b", re.I)

# Ordered: the first rule that matches decides. Patterns look at the title first, then
# at the opening of the text, so a report that quotes a press release stays a report.
_TYPE_RULES: list[tuple[DocType, re.Pattern[str]]] = [
    ("pressemeddelelse", re.compile(r"pressemeddelelse|press release|\budtaler\b", re.I)),
    ("referat", re.compile(r"\breferat\b|\bdagsorden\b|\bbeslutning\s*:|mødedato", re.I)),
    ("artikel", re.compile(r"\bblog(?:ger|indlæg)?\b|\bdebatindlæg\b|\bkronik\b", re.I)),
    ("aftale", re.compile(r"\brammeaftale|\baftale\b|\bkontrakt\b|partnerskabsaftale", re.I)),
    ("rapport", re.compile(r"\brapport\b|\banalyse\b|\bISBN\b|\bevaluering\b", re.I)),
]


def find_dates(text: str) -> list[tuple[int, str]]:
    """(offset, ISO date) of every full date in ``text``, in order of appearance."""
    found: list[tuple[int, str]] = []
    for m in DATE_DMY_RE.finditer(text):
        day, month, year = int(m.group(1)), MONTHS[m.group(2).lower()], int(m.group(3))
        if 1 <= day <= 31:
            found.append((m.start(), f"{year:04d}-{month:02d}-{day:02d}"))
    for m in DATE_NUMERIC_RE.finditer(text):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= day <= 31 and 1 <= month <= 12:
            found.append((m.start(), f"{year:04d}-{month:02d}-{day:02d}"))
    for m in DATE_ISO_RE.finditer(text):
        year, month, day = (int(g) for g in m.groups())
        if 1 <= day <= 31 and 1 <= month <= 12:
            found.append((m.start(), f"{year:04d}-{month:02d}-{day:02d}"))
    return sorted(found)


def document_date(text: str, window: int = 3000) -> str | None:
    """The first full date near the start, else the first "month year" there (as YYYY-MM)."""
    head = text[:window]
    dates = find_dates(head)
    if dates:
        return dates[0][1]
    m = DATE_MY_RE.search(head)
    if m:
        return f"{int(m.group(2)):04d}-{MONTHS[m.group(1).lower()]:02d}"
    return None


def document_type(title: str, text: str, hint: DocType | None = None) -> DocType | None:
    """From the title, else the reader's hint (an HTML <article> is an article), else
    the opening of the text."""
    for doc_type, pattern in _TYPE_RULES:
        if pattern.search(title):
            return doc_type
    if hint:
        return hint
    head = text[:4000]
    for doc_type, pattern in _TYPE_RULES:
        if pattern.search(head):
            return doc_type
    return None
