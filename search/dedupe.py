"""Near-duplicate passages: the same boilerplate paragraph on hundreds of pages.

Real collections repeat notes, disclaimers and navigation text word for word (or nearly, with
a product name or a number changed). Such a passage is shown once, with its best-ranked
document; the others are counted, not listed, so that they do not crowd out the answers.

Two passages are near-duplicates when the sets of their word 3-grams overlap by at least
``NEAR_DUPLICATE`` (Jaccard); passages of fewer than three words compare as whole texts.
"""

from __future__ import annotations

import functools
import re

NEAR_DUPLICATE = 0.8
_WORD = re.compile(r"[^\W_]+")


# The same passages come back query after query (boilerplate most of all): their 3-grams
# are computed once. 16k passages of ≈150 words hold ≈40 MB.
@functools.lru_cache(maxsize=16_384)
def shingles(text: str) -> frozenset[str]:
    """The word 3-grams of a text, lower-cased and without punctuation."""
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return frozenset([" ".join(words)] if words else [])
    return frozenset(" ".join(words[i : i + 3]) for i in range(len(words) - 2))


def near_duplicates(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    # Jaccard ≥ t needs the smaller set to be at least t of the larger: a cheap first test.
    small, large = sorted((len(a), len(b)))
    if small < NEAR_DUPLICATE * large:
        return False
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) >= NEAR_DUPLICATE
