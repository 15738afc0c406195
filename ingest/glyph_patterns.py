"""Text that is a drawing's pattern, not language: left out of the index.

Some figures fill areas with a letter of a symbol font, placed thousands of times (a PSTricks
moiré: 46,000 "b" glyphs on one page; a hatching of "rs rs rsrs"). Read as text they become
hundreds of passages such as "b bb bbbb b bb", each embedded for nothing and each a false hit
for a one-letter query. Language, tables of numbers included, uses more than two distinct
letters and digits in any stretch of this length.
"""

from __future__ import annotations

MIN_CHARACTERS = 60  # letters and digits: shorter text is too little evidence
MAX_DISTINCT = 2  # "b", "rs", "bc": a pattern; "ord ord", "1 0 2" or any sentence: not


def is_glyph_pattern(text: str) -> bool:
    """Whether ``text`` holds at least ``MIN_CHARACTERS`` letters and digits, all drawn from
    at most ``MAX_DISTINCT`` distinct ones (case folded)."""
    count = 0
    distinct: set[str] = set()
    for ch in text:
        if ch.isalnum():
            count += 1
            distinct.add(ch.casefold())
            if len(distinct) > MAX_DISTINCT:
                return False
    return count >= MIN_CHARACTERS
