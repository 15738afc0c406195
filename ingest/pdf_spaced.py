"""Letters spread evenly over a fixed-width cell are one word, not a word per letter.

TeX's ``listings`` (``columns=fixed``, its default) sets code on a grid: each identifier is
boxed to as many columns as it has letters, and the slack is shared evenly between its
letters. With a proportional font the slack is a sixth of an em or more between every two
letters (``limit`` in ``listings``' own manual, ``linestyle`` in pst-labo's), over the
word-gap threshold: the code came out letter by letter, "l i m i t". Letter-spaced type
(``\\so``) looks the same. A space, though, is a whole column or more (half an em), and
prose never spaces four glyphs in a row evenly and this narrowly: glyphs of a word touch.
Three can be: a one-letter word between two words on a tight line ("really a currency",
"type 1 font" in marvosym's manual), so a run needs two one-letter words in a row to be
mistaken, which is rare.

So a run of at least four glyphs of one font on one baseline whose gaps are equal (to the
rounding of the positions: dvips places glyphs on a 1/600-inch grid) and narrower than
``MAX_SPREAD`` em is a word: its gaps are closed before words are built.
"""

from __future__ import annotations

# Widest even gap (share of the font size) read as letter-spacing: listings leaves a sixth of
# an em between most letters, a quarter between the narrowest ("fill" in a 0.6-em grid), and
# a space is a column (half an em) or more. Below the narrowest space of prose fonts (Times'
# 0.25 em, Helvetica's 0.28, TeX's shrunk to 0.22 only on a tight line), so single-letter
# words in a row ("a b c") keep their spaces.
MAX_SPREAD = 0.24
# Gaps this close (share of the font size) count as equal: 0.2 pt at 10 pt, above dvips's
# 0.12-pt grid.
SAME_GAP = 0.02
# A run has this many equal gaps at least (four glyphs): "int" in a listing stays "i n t".
MIN_GAPS = 3
# Gaps of a run must be equal and wider than this share of the font size (narrower ones
# join words anyway); the word-gap threshold's.
MIN_SPREAD = 0.1


def close_even_gaps(chars: list[dict]) -> list[dict]:
    """``chars`` (pdfplumber char dicts in content order) with every glyph of an evenly
    spread run (see the module) widened to the next one, so its gaps close; the same list
    when there is none."""
    runs = _even_runs(chars)
    if not runs:
        return chars
    out = list(chars)
    for start, end in runs:  # glyphs start..end (inclusive) are one word
        for i in range(start, end):
            out[i] = {**out[i], "x1": chars[i + 1]["x0"]}
    return out


def _even_runs(chars: list[dict]) -> list[tuple[int, int]]:
    runs = []
    start = None  # first glyph of the current run of equal gaps
    gap = 0.0  # the run's first gap
    for i in range(1, len(chars) + 1):
        g = _gap(chars[i - 1], chars[i]) if i < len(chars) else None
        size = chars[i - 1].get("size") or 0.0
        if start is not None and g is not None and abs(g - gap) <= SAME_GAP * size:
            continue  # the run goes on
        if start is not None and i - 1 - start >= MIN_GAPS and _has_letters(chars[start:i]):
            runs.append((start, i - 1))
        start, gap = (i - 1, g) if g is not None else (None, 0.0)
    return runs


def _has_letters(run: list[dict]) -> bool:
    """Whether the run holds two letters or digits: math's ", . . . ," (thin spaces, even
    and narrow, in adtrees' manual) is punctuation set apart, not a word."""
    return sum(1 for c in run if c.get("text", "").isalnum()) >= 2


def _gap(a: dict, b: dict) -> float | None:
    """The gap from glyph ``a`` to the next, ``b``, when they may be letters of one spread
    word: one font and size, one baseline, neither a space, ``b`` to the right of ``a`` by
    an evenly-spread gap's width."""
    if a.get("fontname") != b.get("fontname") or a.get("size") != b.get("size"):
        return None
    if not a.get("text", "").strip() or not b.get("text", "").strip():
        return None
    ma, mb = a.get("matrix"), b.get("matrix")
    if not ma or not mb or abs(ma[5] - mb[5]) > 0.01:
        return None
    size = a.get("size") or 0.0
    g = b["x0"] - a["x1"]
    if not MIN_SPREAD * size < g <= MAX_SPREAD * size:
        return None
    return g
