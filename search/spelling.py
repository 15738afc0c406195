"""Spelling repair of OCR-damaged Danish, for what the dense model reads.

Old scans carry text layers in which æ, ø and å became ``ae``/``ee``/``ze``, ``g`` or ``a``
("Sjeelland", "gkonomisk", "omrade"). The keyword channel already meets such words through
their folded skeletons (:func:`search.sparse.fold`); the dense model does not: e5 reads
"veeksten i udgifterne har veeret kolossal" as noise. Before a Danish passage is embedded,
each word that the Danish word list lacks but whose folded skeleton belongs to exactly one
listed word is replaced by that word. The passage shown and cited stays as printed.

Measured on the sample corpus's OCR'd press release (word list ``wdanish``, 310k forms):
of its damaged words, 46 distinct ones are repaired, 44 of them right ("Sjeelland" →
"Sjælland", "leverandgrer" → "leverandører"); on its four clean documents the rule would
touch a few words (an acronym, an English word), so a passage is repaired only when it
shows damage: at least ``MIN_REPAIRS`` repairs and ``MIN_SHARE`` of its words. Acronyms
("OPS", which folds like "gps") are never touched.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from search.sparse import fold

MIN_REPAIRS = 2
MIN_SHARE = 0.02
_WORD = re.compile(r"[^\W\d_]+")
# An address is spelt as it must be typed ("naestved.dk"), not repaired.
_ADDRESS = re.compile(r"\S*(?:@|://|www\.)\S*")


class SpellingRepair:
    """Maps a damaged word to the one listed word with its folded skeleton. Thread-safe
    (read-only after construction)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w.lower() for w in words)
        by_key: dict[str, str | None] = {}
        for word in self.words:
            key = fold(word)
            # A skeleton two listed words share ("mødes", "modes") repairs to neither.
            by_key[key] = None if key in by_key and by_key[key] != word else word
        self._by_key = {k: w for k, w in by_key.items() if w is not None}

    def correction(self, word: str) -> str | None:
        """The listed word ``word`` is a damaged spelling of, if exactly one; else None."""
        lower = word.lower()
        if len(word) < 2 or lower in self.words or (word.isupper() and len(word) > 1):
            return None
        fixed = self._by_key.get(fold(lower))
        if fixed is None or fixed == lower:
            return None
        return fixed.capitalize() if word[0].isupper() else fixed

    def repair(self, text: str) -> str:
        """``text`` with its damaged words repaired, if it shows damage; else ``text``."""
        fixes: list[tuple[int, int, str]] = []
        words = 0
        addresses = [m.span() for m in _ADDRESS.finditer(text)]
        for match in _WORD.finditer(text):
            words += 1
            if any(a <= match.start() < b for a, b in addresses):
                continue
            fixed = self.correction(match.group())
            if fixed is not None:
                fixes.append((match.start(), match.end(), fixed))
        if len(fixes) < MIN_REPAIRS or len(fixes) < MIN_SHARE * words:
            return text
        out: list[str] = []
        last = 0
        for start, end, fixed in fixes:
            out += [text[last:start], fixed]
            last = end
        out.append(text[last:])
        return "".join(out)


@functools.lru_cache(maxsize=2)
def spelling_for(words: frozenset[str]) -> SpellingRepair:
    """The repair for a word list, built once per process (≈1 s for ``wdanish``)."""
    return SpellingRepair(words)
