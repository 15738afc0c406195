"""Index terms a document's author gave it: HTML ``<meta name="keywords">`` and the
``<meta itemprop="keywords">`` entries help systems put before each topic (the LibreOffice
help's alphabetical index: "farver, udskriv ikke"), a PDF's ``/Keywords``, a DOCX's keywords
property.

They name the topic in the words a reader looks it up by, often words the text itself does
not use ("sort-hvid udskrivning" on a page that says "Gråtoner"). They are shown with the
document (``GET /documents/{id}``, the document page). They are not searched: added to each
passage's keyword text (at a word's weight and at half of it) they changed no top five on
the three development sets and cost the LibreOffice help first places, because its index
terms are broad ("udskrive", "printere") and lift every passage of a page alike (README).
Entries are capped all the same: a page stuffed with hundreds of terms is still one page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.clean import normalize_line

MAX_KEYWORDS = 40  # entries kept per document, in the order given
MAX_KEYWORD_CHARS = 120  # longer "entries" are prose, not index terms
_SPLIT_RE = re.compile(r"[;\n\r\t]+")


def keyword_entries(values: Iterable[str | None]) -> list[str]:
    """Entries from raw metadata values (each may hold several, split at ``;`` or line
    breaks; a comma stays inside an entry: "farver, udskriv ikke" is one index entry),
    normalised, without repeats (case-insensitively), at most ``MAX_KEYWORDS``."""
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            continue
        for part in _SPLIT_RE.split(value):
            entry = normalize_line(part).strip(" ,")
            key = entry.casefold()
            if not entry or len(entry) > MAX_KEYWORD_CHARS or key in seen:
                continue
            seen.add(key)
            out.append(entry)
            if len(out) == MAX_KEYWORDS:
                return out
    return out
