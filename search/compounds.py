"""Danish compound splitting for the keyword channel: ``tillidskrise`` → ``tillid`` + ``krise``.

Danish writes compounds as one word, so a question about *tilliden* shares no keyword with a
passage about a *tillidskrise*, nor *handlen* with *samhandel*, nor *familier* with
*plejefamilier*. The sparse encoder therefore indexes a compound whole *and* by its parts, as it
already does for hyphenated words ("offentlig-privat").

The splitter reads a full-form word list, by default Debian's ``wdanish``
(``/usr/share/dict/danish``, ≈310 000 forms, inflections included). A word of nine letters or
more splits into head + tail when

- the tail is a listed word of four letters or more that is neither a stopword nor an ending
  that also happens to be a word (``udviklingen`` is not ``udvikl`` + ``ingen``), and
- the head is a listed word of four letters or more, possibly followed by the linking ``-s-`` or
  ``-e-`` (``tillid-s-krise``, ``drift-s-overenskomster``), and
- given a stemmer, the tail keeps three letters or more of the word's stem, so that an inflected
  simple word is not cut in its ending (``taksterne``, stem ``takst``, is not ``taks`` +
  ``terne``).

Of several splits the longest tail wins: in a Danish compound the last part carries the meaning
(a *tillidskrise* is a *krise*), and a long tail is rarely a chance match. One split per word: the
head of a three-part compound stays whole (``rammeaftale`` + ``processer``).

Measured on the dev set and a held-out set of 45 queries written for this corpus
(``bench/qrels/holdout.jsonl``): sparse R@5 0.76 → 0.80 and 0.58 → 0.69, paraphrase questions
0.43 → 0.57 and 0.22 → 0.44; hybrid MRR@10 0.78 → 0.79 and 0.70 → 0.74. Derivations that look
like compounds (``muligheder`` → ``mulig`` + ``heder``) still split; as the whole word is indexed
too, they cost a little precision, not recall.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

MIN_WORD = 9
MIN_PART = 4
LINKS = ("s", "e")
# Inflectional and derivational endings that are also words in the list.
_ENDINGS = frozenset(
    {"ende", "endes", "enes", "erne", "ernes", "ingen", "inger", "ning", "ninger", "else"}
    | {"elser", "heden", "heder", "hederne"}
)


class CompoundSplitter:
    """Splits lower-case Danish words into (head, tail) by a word list. Thread-safe."""

    def __init__(
        self,
        words: frozenset[str],
        name: str,
        stopwords: frozenset[str] = frozenset(),
        stem: Callable[[str], str] | None = None,
    ):
        self.words = words
        self.stopwords = stopwords
        self.stem = stem
        digest = hashlib.blake2b("\n".join(sorted(words)).encode(), digest_size=4).hexdigest()
        self.fingerprint = f"{name}:{len(words)}:{digest}"
        self.split = functools.lru_cache(maxsize=200_000)(self._split)

    @classmethod
    def from_file(
        cls,
        path: Path,
        stopwords: frozenset[str] = frozenset(),
        stem: Callable[[str], str] | None = None,
    ) -> CompoundSplitter:
        """Load a word list, one word per line (UTF-8; ``wdanish`` is UTF-8)."""
        text = path.read_text(encoding="utf-8", errors="replace")
        words = frozenset(w.lower() for w in text.split() if w.isalpha())
        return cls(words, path.name, stopwords, stem)

    @classmethod
    def load(
        cls,
        path: Path | None,
        stopwords: frozenset[str] = frozenset(),
        stem: Callable[[str], str] | None = None,
    ) -> CompoundSplitter | None:
        """The splitter for ``path`` (loaded once per process), or None with a warning when
        there is no word list."""
        if path is None:
            return None
        return _load_cached(path, stopwords, stem)

    def _split(self, word: str) -> tuple[str, str] | None:
        if len(word) < MIN_WORD or not word.isalpha():
            return None
        last = len(word) - MIN_PART
        if self.stem is not None:
            last = min(last, len(self.stem(word)) - (MIN_PART - 1))
        # Longest tail first: the first acceptable split is the one we want.
        for i in range(MIN_PART, last + 1):
            tail = word[i:]
            if tail not in self.words or tail in self.stopwords or tail in _ENDINGS:
                continue
            head = word[:i]
            if head in self.words:
                return head, tail
            if head[-1] in LINKS and len(head) > MIN_PART and head[:-1] in self.words:
                return head[:-1], tail
        return None


@functools.lru_cache(maxsize=4)
def _load_cached(
    path: Path, stopwords: frozenset[str], stem: Callable[[str], str] | None
) -> CompoundSplitter | None:
    try:
        return CompoundSplitter.from_file(path, stopwords, stem)
    except OSError as err:
        log.warning(
            "Danish compound splitting is off: cannot read the word list %s (%s). "
            "Install the Debian package wdanish or set OPS_LEXICON to a word list.",
            path,
            err.strerror or err,
        )
        return None
