"""Sentence windows: the units the dense channel embeds for each passage.

A passage (≈110–170 words) is embedded as overlapping windows of about ``WINDOW_WORDS``
words, each a run of whole sentences (a list item counts as one), and the store scores a
passage by its best window (max-sim). Measured on the dev set: questions that paraphrase one
sentence of a passage are found far more often this way than with a single embedding of the
whole passage (hybrid R@5 0.80 → 0.92), and the passage shown to the user keeps its context.

Window size, measured on all three development sets over one index of 7,290 passages
(``bench/window_plans.py``; hybrid R@5 / MRR@10, dev | holdout | LibreOffice help): 45 words
(3.15 windows and 242 model tokens per passage) 0.92 / 0.768 | 0.844 / 0.729 | 0.600 / 0.516;
90 words (1.54 windows, 195 tokens: 81 % of the embedding work, half the stored vectors)
0.92 / 0.780 | 0.867 / 0.733 | 0.575 / 0.537. Without overlap, the whole passage up to 120
words, or one vector per passage each lost two or three questions on some set. Each sentence
of ≥ 8 words as a window of its own besides (6.6 windows, 1.87× the work) moved no question
into or out of a hybrid top five and lowered MRR on dev and the help (0.793 → 0.743, 0.552 →
0.525). The section path after the title in each window's context, not the title alone,
cost holdout three questions from the hybrid top five (0.889 → 0.822; dense alone six): the
long meeting and chapter headings of minutes and reports outweigh the window's own words.
The whole passage as one more window besides its 90-word ones (1.62× the work): holdout
+1 in the top five, but MRR@10 dev 0.793 → 0.753, LibreOffice 0.551 → 0.511.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ops_search.models import Chunk

WINDOW_WORDS = 90
_SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+(?=[\"“”»(•\-–]?[A-ZÆØÅ0-9])|\n+")


@dataclass(frozen=True)
class WindowPlan:
    """How a passage is cut into windows. The default is what indexes are built with;
    ``bench/window_plans.py`` measures the others (quality against embedding cost)."""

    words: int = WINDOW_WORDS  # a window's size in words (whole sentences)
    overlap: bool = True  # each window starts with the last sentence of the one before
    whole_up_to: int = 0  # passages of at most this many words are one window, whole
    sentences_from: int = 0  # also each sentence of at least this many words, on its own
    section_context: bool = False  # the section path after the title, before each window
    whole_too: bool = False  # a passage of several windows also read whole, as one more


DEFAULT_PLAN = WindowPlan()


def windows(text: str, size: int = WINDOW_WORDS, overlap: bool = True) -> list[str]:
    """Runs of whole sentences of up to ``size`` words, each starting with the last
    sentence of the one before (so no sentence loses its neighbour) unless not ``overlap``."""
    sentences = [s.strip() for s in _SENTENCE_RE.split(text) if s and s.strip()]
    if not sentences:
        return [text.strip() or text]
    out: list[str] = []
    current: list[str] = []
    words = 0
    for sentence in sentences:
        n = len(sentence.split())
        if current and words + n > size:
            out.append(" ".join(current))
            current = current[-1:] if overlap and len(current) > 1 else []
            words = sum(len(s.split()) for s in current)
        current.append(sentence)
        words += n
    if current:
        out.append(" ".join(current))
    return out


def window_inputs(
    chunk: Chunk,
    plan: WindowPlan = DEFAULT_PLAN,
    repair: Callable[[str], str] | None = None,
) -> list[str]:
    """What the dense model reads for a chunk: each window with the document title as
    context (the displayed text stays the chunk text). Not the document's keywords: in the
    context they cost first places on every development set (README, "Measured").
    ``repair`` mends the OCR damage of a passage not in English (search.spelling)."""
    text = repair(chunk.text) if repair is not None and chunk.lang != "en" else chunk.text
    if plan.whole_up_to and len(text.split()) <= plan.whole_up_to:
        parts = [text.strip() or text]
    else:
        parts = windows(text, plan.words, plan.overlap)
    if plan.whole_too and len(parts) > 1:
        parts.append(text.strip())
    if plan.sentences_from:
        singles = [t.strip() for t in _SENTENCE_RE.split(text) if t and t.strip()]
        parts += [t for t in singles if len(t.split()) >= plan.sentences_from and t not in parts]
    context = _section_context(chunk) if plan.section_context else chunk.title
    return [f"{context}\n{w}" for w in parts]


def _section_context(chunk: Chunk) -> str:
    """The title and the chunk's section path ("Statistiske funktioner > CHI2.TEST"), the
    title once where the path starts with it."""
    path = [p.strip() for p in chunk.section.split(" > ") if p.strip()]
    if path and path[0] == chunk.title:
        path = path[1:]
    return " > ".join([chunk.title, *path])
