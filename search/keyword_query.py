"""Whether a query is a few search words ("pakkemodel takster", "centrer tekst lodret side")
rather than a question.

Staff who know the term they want type it bare; the keyword channel matches such words
exactly, while the dense channel reads two nouns without a sentence poorly (the sample
corpus's "pakkemodel takster": keyword 1st, dense 14th). Such queries get the keyword channel's
own fusion weight (``Settings.sparse_weight_keywords``). A question — a question mark, or a
first word that asks (hvad, hvordan, what, how, …) — or anything longer than five words is
not one.
"""

from __future__ import annotations

import re

MAX_WORDS = 5
# fmt: off
DANISH_QUESTION_WORDS = frozenset((
    # Danish interrogatives, and the verbs a yes/no question starts with
    "hvad", "hvem", "hvis", "hvor", "hvordan", "hvornår", "hvorfor", "hvorledes", "hvilken",
    "hvilket", "hvilke", "hvorhen", "hvormed", "hvorfra", "hvortil", "kan", "kunne", "skal",
    "skulle", "må", "vil", "ville", "er", "var", "har", "havde", "findes", "gælder",
))
QUESTION_WORDS = DANISH_QUESTION_WORDS | frozenset((
    # English ones, for the rare question that is not surely English
    "what", "who", "whom", "whose", "where", "when", "why", "how", "which", "can", "could",
    "should", "is", "are", "was", "does", "do", "did",
))
# fmt: on
_WORD = re.compile(r"\w+(?:[-'’.]\w+)*")


def looks_like_keywords(query: str) -> bool:
    """At most five words, no question mark, and not starting with a question word."""
    if "?" in query:
        return False
    words = _WORD.findall(query.lower())
    return 0 < len(words) <= MAX_WORDS and words[0] not in QUESTION_WORDS


def opens_as_danish_question(query: str) -> bool:
    """Whether the first word is a Danish question word ("Hvad er best practice for value for
    money?"): the question is Danish, however many English terms follow."""
    words = _WORD.findall(query.lower())
    return bool(words) and words[0] in DANISH_QUESTION_WORDS
