"""Query expansion through a Danish thesaurus for the keyword channel: *arket* also asks for
*papir*, *udskrive* for *printe*, *lodret* for *vertikal*.

A question and its answer often name one thing with different words; the keyword channel then
finds nothing to match. Each query word (a closed compound whole and by its parts, as the
passages are indexed) is looked up by its Snowball stem among the thesaurus's headwords, and its
synonyms are added to the query at :data:`WEIGHT` of an original term's weight (plain and folded
stream alike), so a passage that uses the query's own words still ranks above one that uses a
synonym. Only the keyword channel is expanded; the dense channel matches meaning already.

The thesaurus is LibreOffice's Danish one in MyThes format (Debian package ``mythes-da``,
``/usr/share/mythes/th_da_DK.dat``; Foreningen for frit tilgængelige sprogværktøjer,
LGPL-2.1, GPL-2 or MPL-1.1): after a line naming the encoding, each entry is
``headword|n`` followed by ``n`` meaning lines ``|synonym|synonym …``, a synonym possibly
annotated ``(underbegreb)``, ``(daglig tale)``, ``(fagudtryk)``, ``(vulgær)`` …. Kept: single-word
synonyms, annotation dropped; left out: hyponyms (``underbegreb``, ≈105 000 of the items: a
*kindhest* is not what a question about a *tæv* means), vulgar words and multi-word phrases.

Expansion is limited to words the index knows by construction: a synonym no passage contains
has no postings and scores nothing (the store's IDF modifier knows the collection's document
frequencies), so an unknown synonym is a no-op, never a match.

Measured on the three development sets (simulated offline, then in the engine) over one index
(sample corpus + the whole Danish LibreOffice help, 7,281 passages), hybrid R@5 / MRR@10,
weights 0.2–0.7 tried: at 0.4 dev 0.92 / 0.792 → 0.92 / 0.788 (one question 10th → 11th),
holdout 0.80 / 0.715 → 0.84 / 0.729 (two into the top five, one 1st → 3rd), LibreOffice 0.55 /
0.470 → 0.60 / 0.516 (two into the top five, two 2nd → 1st); at 0.7 holdout and LibreOffice each
lose a top-five question, dev a first place. Keyword alone: holdout R@5 0.64 → 0.76, LibreOffice
0.45 → 0.50. Expanding only rare or absent query words (document frequency ≤ 0–1000), or only
the 3–10 commonest synonyms, gained as much at best; adding the reverse direction (synonym →
headword) moved no question in or out of a top five.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["WEIGHT", "Thesaurus"]

# An added synonym's weight relative to the query's own term (1.0 plain, fold_weight folded).
WEIGHT = 0.4

_SKIPPED = frozenset({"underbegreb", "vulgær"})
_ANNOTATION = re.compile(r"\s*\(([^)]*)\)\s*")


class Thesaurus:
    """Synonyms by the stem of a headword: ``synonyms("ark")`` for *ark*, *arket*, *arkene*."""

    def __init__(self, entries: dict[str, frozenset[str]]) -> None:
        self._by_stem = entries

    def __len__(self) -> int:
        return len(self._by_stem)

    def synonyms(self, stem: str) -> frozenset[str]:
        """Synonyms (surface words, lower case) of the headwords with this stem."""
        return self._by_stem.get(stem, frozenset())

    @classmethod
    def parse(cls, lines: list[str], stem: Callable[[str], str]) -> Thesaurus:
        """Read MyThes ``.dat`` lines (the encoding line first)."""
        by_stem: dict[str, set[str]] = {}
        i = 1
        while i < len(lines):
            head, sep, count = lines[i].rpartition("|")
            i += 1
            if not sep or not count.strip().isdigit():
                continue
            n = int(count)
            head = head.strip().lower()
            synonyms: set[str] = set()
            for line in lines[i : i + n]:
                for item in line.split("|")[1:]:
                    if "(" in item:  # annotated: "kindhest (underbegreb)", "lige (daglig tale)"
                        if _SKIPPED.intersection(_ANNOTATION.findall(item)):
                            continue
                        item = _ANNOTATION.sub(" ", item)
                    word = item.strip().lower()
                    if word and " " not in word and word != head:
                        synonyms.add(word)
            i += n
            if head and " " not in head and synonyms:
                by_stem.setdefault(stem(head), set()).update(synonyms)
        return cls({k: frozenset(v) for k, v in by_stem.items()})

    @classmethod
    def from_file(cls, path: Path, stem: Callable[[str], str]) -> Thesaurus:
        with path.open("rb") as f:
            first = f.readline().decode("ascii", "replace").strip() or "utf-8"
            data = f.read()
        try:
            text = data.decode(first)
        except LookupError:  # an encoding name Python does not know
            text = data.decode("utf-8", "replace")
        return cls.parse([first, *text.splitlines()], stem)

    @staticmethod
    def load(path: Path | None, stem: Callable[[str], str]) -> Thesaurus | None:
        """The thesaurus at ``path`` (loaded once per process), or None — expansion off — when
        there is none (with a warning when it cannot be read)."""
        if path is None:
            return None
        return _load_cached(path, stem)


@functools.lru_cache(maxsize=4)
def _load_cached(path: Path, stem: Callable[[str], str]) -> Thesaurus | None:
    try:
        return Thesaurus.from_file(path, stem)
    except OSError as err:
        log.warning(
            "Thesaurus query expansion is off: cannot read %s (%s). Install the Debian package "
            "mythes-da or set OPS_THESAURUS to a MyThes .dat file.",
            path,
            err.strerror or err,
        )
        return None
