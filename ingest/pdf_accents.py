"""Accents typeset as glyphs of their own (old TeX: "u" plus a "¨" placed over it) → one letter.

pdfplumber sorts the two glyphs by x, so the text reads "fu¨r" or "k¨onnen" depending on which
glyph starts further left. The position tells which letter an accent belongs to: TeX centres
it over (or, a cedilla, under) its letter. So the PDF reader merges by position, before words
are built; ``ingest.clean`` composes the leftovers (tables, fallback readers) from the text.
"""

from __future__ import annotations

import bisect

from ingest.clean import SPACING_ACCENTS, compose_accent

# How far an accent's centre may sit from its letter's centre, as a share of the letter's
# width: italic accents are shifted right by the font's skew. The next letter's centre is a
# whole letter away, so adjacent glyphs in code ("x^y", "a~b") are never merged.
CENTRE_TOLERANCE = 0.3


def merge_accents(chars: list[dict]) -> list[dict]:
    """``chars`` (pdfplumber char dicts) with every spacing accent that sits on a letter
    merged into it ("u" + "¨" → "ü"); the same list when there is nothing to merge."""
    accents = [i for i, c in enumerate(chars) if c["text"] in SPACING_ACCENTS]
    if not accents:
        return chars
    letters = sorted(
        ((c["x0"] + c["x1"]) / 2, i)
        for i, c in enumerate(chars)
        if c["text"].isalpha() and c["text"] not in SPACING_ACCENTS
    )
    centres = [cx for cx, _ in letters]
    widest = max((chars[i]["x1"] - chars[i]["x0"] for _, i in letters), default=0.0)
    merged = list(chars)
    dropped: set[int] = set()
    for i in accents:
        accent = chars[i]
        j = _letter_under(accent, chars, letters, centres, widest)
        if j is None:
            continue
        composed = compose_accent(merged[j]["text"], accent["text"])
        if composed is not None:
            merged[j] = {**merged[j], "text": composed}
            dropped.add(i)
    if not dropped:
        return chars
    return [c for i, c in enumerate(merged) if i not in dropped]


def _letter_under(
    accent: dict,
    chars: list[dict],
    letters: list[tuple[float, int]],
    centres: list[float],
    widest: float,
) -> int | None:
    """Index of the letter whose centre the accent sits on, on the same line, if any."""
    cx = (accent["x0"] + accent["x1"]) / 2
    reach = widest * CENTRE_TOLERANCE + 0.01
    lo = bisect.bisect_left(centres, cx - reach)
    hi = bisect.bisect_right(centres, cx + reach)
    best, best_distance = None, None
    for lcx, j in letters[lo:hi]:
        letter = chars[j]
        distance = abs(lcx - cx)
        if distance > (letter["x1"] - letter["x0"]) * CENTRE_TOLERANCE + 0.01:
            continue
        if min(accent["bottom"], letter["bottom"]) <= max(accent["top"], letter["top"]):
            continue  # not on the same line
        if accent.get("upright", True) != letter.get("upright", True):
            continue
        if best_distance is None or distance < best_distance:
            best, best_distance = j, distance
    return best
