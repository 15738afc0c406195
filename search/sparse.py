"""BM25 sparse vectors: tokenise, stop, stem, fold OCR damage, hash terms to ids.

Each passage is analysed in its own language: Danish passages with the Danish stemmer,
stopwords and compound splitting, English ones (``lang == "en"``) with the English stemmer
and stopwords. A query that is surely Danish (langdetect ≥ 0.9) is analysed as Danish; any
other — English, or too short to tell, as keyword queries are — both ways, its terms the
union: an English question meets English passages through English stems. Measured on the
three development sets: analysing every query both ways gained one dev query and lost one
LibreOffice keyword query ("centrer tekst lodret side" met English pages through "side");
analysing confident Danish queries as Danish only keeps the gain without the loss.

A passage becomes a :class:`SparseVector` of BM25 term-frequency saturation weights
(``tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avg_len))``). IDF is *not* included: the store
applies Qdrant's IDF modifier, which knows the collection's document frequencies.

Two term streams are emitted side by side, in separate id namespaces:

- **plain**: lower-cased, NFC, Danish Snowball stem. ``takster``/``taksten`` → ``takst``.
- **folded**: the same word first folded to an ASCII skeleton that OCR damage and æøå-less
  typing map onto as well, then stemmed. ``økonomisk``, ``gkonomisk`` and ``okonomisk`` all fold
  to ``okonomisk``; ``fælles``, ``feelles``, ``fzelles``, ``faelles`` to ``felles``; ``børn`` and
  ``bgrn`` to ``born``. See :func:`fold`.

Both streams are always emitted (also when the folded term equals the plain one) so that a query
typed without æøå still meets the folded terms of a correctly spelt passage. An exact match
therefore scores in both namespaces while an OCR-damaged match scores only in the folded one, and
:meth:`SparseEncoder.encode_query` gives folded terms a lower weight (``fold_weight``), so exact
matches win. The weight lives on the query side: changing it needs no re-index.

Term ids are the first 4 bytes of blake2b over ``"<namespace>:<term>"``, masked to 31 bits:
stable across processes, machines and Python versions.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import Stemmer

from ingest.language import language_scores
from search.compounds import CompoundSplitter
from search.store import SparseVector  # indices: list[int], values: list[float]
from search.thesaurus import WEIGHT as SYNONYM_WEIGHT
from search.thesaurus import Thesaurus

__all__ = [
    "ANALYZER_VERSION",
    "DANISH_STOPWORDS",
    "ENGLISH_STOPWORDS",
    "SparseEncoder",
    "SparseVector",
    "danish_encoder",
    "fold",
    "term_id",
]

# Bump when tokenisation, stemming, folding or hashing changes: old indexes then need a rebuild.
ANALYZER_VERSION = "da-en-bm25-5"

# Snowball's Danish stopword list.
_DANISH_STOP_TEXT = """
    og i at det en den til er som på de med af for ikke der var mig sig men et har om vi min
    havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle
    vil blev kunne ind når være dog noget ville jo deres efter ned skulle denne end dette mit også
    under have dig anden hende mine alt meget sit sine vor mod disse hvis din nogle hos blive mange
    ad bliver hendes været thi jer sådan"""
# Question words too: queries are often questions ("Hvorfor er tilliden svækket?"), and the
# question word then matches every passage that happens to ask or mention "hvorfor".
_DANISH_QUESTION_WORDS = "hvorfor hvordan hvornår hvem hvilke hvilken hvilket hvorledes hvorvidt"
DANISH_STOPWORDS: frozenset[str] = frozenset(
    _DANISH_STOP_TEXT.split() + _DANISH_QUESTION_WORDS.split()
)
# A light English list, stopped in Danish passages too: English words in Danish text.
_ENGLISH_STOP_TEXT = "the of and to in a is for on with"
ENGLISH_STOPWORDS: frozenset[str] = frozenset(_ENGLISH_STOP_TEXT.split())
# Snowball's English list (without contractions), for English passages and queries.
_ENGLISH_FULL_STOP_TEXT = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing would should could ought a an the and but if or because as until while of at by for
    with about against between into through during before after above below to from up down in
    out on off over under again further then once here there when where why how all any both
    each few more most other some such no nor not only own same so than too very can will just"""
ENGLISH_FULL_STOPWORDS: frozenset[str] = frozenset(_ENGLISH_FULL_STOP_TEXT.split())
# The English analysis stops Danish stopwords as well: every query is also analysed as
# English, and "hvad er det" must stay empty ("men", "end", "dog" are lost to English text).
_ENGLISH_ANALYSIS_STOP = ENGLISH_FULL_STOPWORDS | DANISH_STOPWORDS


# --------------------------------------------------------------------------- folding

_VOWELS = frozenset("aeiouy")
_BASE_MAP = str.maketrans({"æ": "e", "ø": "o", "å": "a", "ß": "ss"})
_DIGRAPH = re.compile(r"[aez]e")


def fold(word: str) -> str:
    """Fold a lower-cased word to the ASCII-ish skeleton shared by its OCR-damaged spellings.

    Steps, measured on the OCR'd press release in ``corpus/seeds/000_*`` (72 hand-aligned
    OCR/correct word pairs) and on the 310k-form Danish word list (``wdanish``):

    1. ``æ→e, ø→o, å→a``, accents stripped (``é→e``), ``aa→a`` (old spelling of å).
    2. ``ae``, ``ee``, ``ze`` → ``e``: OCR renders æ as ``ee``/``ze``, typists as ``ae``.
    3. A ``g`` with a consonant (or the word's start) before it and a consonant other than ``g``
       (or the word's end) after it → ``o``: OCR reads ø as ``g`` (``gkonomisk``, ``bgrn``,
       ``hgj``, ``mgde``, ``ggre``, ``aktgrer``, ``direktgr``). ``ng`` is exempt (``forsknings``).

    Pairs folded together: 0.32 with step 1 alone, 0.67 with step 2, 0.88 with step 3. Cost:
    distinct Danish stems sharing a folded key: 3.3% → 3.9% → 4.0%. Misses are OCR
    confusions no fold can undo without merging vowels (``afgerende``, ``farste``, ``dbenhed``).
    """
    w = word.translate(_BASE_MAP)
    if not w.isascii():
        w = "".join(c for c in unicodedata.normalize("NFD", w) if not unicodedata.combining(c))
    w = w.replace("aa", "a")
    w = _DIGRAPH.sub("e", w)
    if "g" not in w:
        return w
    out = list(w)
    last = len(w) - 1
    for i, c in enumerate(w):
        if c != "g":
            continue
        prev = w[i - 1] if i else ""
        nxt = w[i + 1] if i < last else ""
        prev_ok = prev == "" or (prev.isalpha() and prev not in _VOWELS and prev != "n")
        next_ok = nxt == "" or (nxt.isalpha() and nxt not in _VOWELS and nxt != "g")
        if prev_ok and next_ok:
            out[i] = "o"
    return "".join(out)


_FOLDED_STOPWORDS = frozenset(fold(w) for w in DANISH_STOPWORDS | ENGLISH_STOPWORDS)
_STOPWORDS = DANISH_STOPWORDS | ENGLISH_STOPWORDS
_DANISH_LETTERS = re.compile("[æøå]")


def _is_stop(norm: str) -> bool:
    # An ASCII word that folds onto a stopword is an OCR'd or æøå-less stopword ("pa", "ogsa",
    # "nar", "vaere"). A word spelt with æøå is not folded here, so "før", "nøgle", "ånd" stay.
    if norm in _STOPWORDS:
        return True
    return not _DANISH_LETTERS.search(norm) and fold(norm) in _FOLDED_STOPWORDS


# --------------------------------------------------------------------------- hashing

_PLAIN = "p"
_FOLDED = "f"


def term_id(term: str, namespace: str = _PLAIN) -> int:
    """Stable 31-bit id of a term in a namespace (``"p"`` plain, ``"f"`` folded)."""
    digest = hashlib.blake2b(f"{namespace}:{term}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


# --------------------------------------------------------------------------- tokenising

_L = r"[^\W_]"  # a letter or digit
_MARK = r"[\u0300-\u036f]"  # combining marks, for text that is not NFC
_WORD = rf"{_L}(?:{_L}|{_MARK})*"
_NUM = r"\d+(?:[.,:]\d+)+"  # 1.200  2,5  3.2  10:30
_PART = rf"(?:{_NUM}|{_WORD})"
_JOINER = r"[-\u2010\u2011/]"  # hyphens and slash: "offentlig-privat", "offentlige/private"
_APOS = r"['\u2019\u02bc]"
_TOKEN = re.compile(rf"{_PART}(?:{_JOINER}{_PART})*(?:{_APOS}s?(?!{_L}))?")
_PART_RE = re.compile(_PART)
_POSSESSIVE = re.compile(rf"{_APOS}s?$")


@dataclass(frozen=True)
class _Part:
    start: int
    end: int
    plain: str
    folded: str


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    whole: _Part | None  # only for joined tokens with 2+ analysable parts
    parts: list[_Part]  # stopwords and single letters removed


_local = threading.local()
_STEMMER_NAMES = {"da": "danish", "en": "english"}
ENGLISH = "en"  # the one language analysed apart; every other passage is analysed as Danish


def _stemmer(lang: str = "da") -> Stemmer.Stemmer:
    # PyStemmer objects are not thread-safe; the API embeds queries from a thread pool.
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    stemmer = stemmers.get(lang)
    if stemmer is None:
        stemmer = stemmers[lang] = Stemmer.Stemmer(_STEMMER_NAMES[lang])
    return stemmer


def _analysis_lang(lang: str) -> str:
    return ENGLISH if lang == ENGLISH else "da"


@functools.lru_cache(maxsize=200_000)
def _analyse(norm: str, lang: str = "da") -> tuple[str, str, bool]:
    """(plain term, folded term, keep) for one normalised word in ``lang`` ("da" or "en")."""
    stemmer = _stemmer(lang)
    single = len(norm) == 1 and norm.isalpha()
    stop = norm in _ENGLISH_ANALYSIS_STOP if lang == ENGLISH else _is_stop(norm)
    return stemmer.stemWord(norm), stemmer.stemWord(fold(norm)), not single and not stop


def _normalise(s: str) -> str:
    return unicodedata.normalize("NFC", s).lower()


@functools.lru_cache(maxsize=200_000)
def _analyse_word(word: str, lang: str = "da") -> tuple[str, str, bool]:
    return _analyse(_normalise(word), lang)


# A word's analysis: (plain, folded, keep) of the whole and, for a closed compound, of head and
# tail with their offsets in the surface word.
_WordAnalysis = tuple[str, str, bool, tuple[int, str, str, int, str, str] | None]


@functools.lru_cache(maxsize=200_000)
def _analyse_plain_word(
    word: str, splitter: CompoundSplitter | None, lang: str = "da"
) -> _WordAnalysis:
    plain, folded, keep = _analyse_word(word, lang)
    if not keep or splitter is None or lang == ENGLISH:  # closed compounds are Danish
        return plain, folded, keep, None
    norm = _normalise(word)
    split = splitter.split(norm)
    if split is None:
        return plain, folded, keep, None
    head, tail = split
    # The parts' spans are cut from the surface word when NFC kept its length (else: whole).
    exact = len(norm) == len(word)
    head_end = len(head) if exact else len(word)
    tail_start = len(word) - len(tail) if exact else 0
    h_plain, h_folded, _ = _analyse(head)
    t_plain, t_folded, _ = _analyse(tail)
    return plain, folded, keep, (head_end, h_plain, h_folded, tail_start, t_plain, t_folded)


def _tokens(
    text: str, splitter: CompoundSplitter | None = None, lang: str = "da"
) -> Iterator[_Token]:
    for m in _TOKEN.finditer(text):
        word = m.group()
        if word.isalnum() or (not word.isascii() and _normalise(word).isalnum()):
            # A plain word (most of them; also one with combining marks): analysis cached.
            plain, folded, keep, split = _analyse_plain_word(word, splitter, lang)
            if not keep:
                continue
            start, end = m.start(), m.end()
            whole = _Part(start, end, plain, folded)
            if split is None:
                yield _Token(start, end, None, [whole])
                continue
            # A closed compound: whole, then head and tail (as for "offentlig-privat").
            head_end, h_plain, h_folded, tail_start, t_plain, t_folded = split
            parts = [
                _Part(start, start + head_end, h_plain, h_folded),
                _Part(start + tail_start, end, t_plain, t_folded),
            ]
            yield _Token(start, end, whole, parts)
            continue
        surface = _POSSESSIVE.sub("", word)
        base = m.start()
        all_parts: list[tuple[int, int, str, str, bool]] = []
        for pm in _PART_RE.finditer(surface):
            plain, folded, keep = _analyse_word(pm.group(), lang)
            all_parts.append((base + pm.start(), base + pm.end(), plain, folded, keep))
        parts = [_Part(s, e, p, f) for s, e, p, f, keep in all_parts if keep]
        whole = None
        if len(all_parts) > 1 and parts:
            # The whole compound keeps its stopword parts: "ikke-offentlige" → "ikke-offent".
            whole = _Part(
                all_parts[0][0],
                all_parts[-1][1],
                "-".join(p[2] for p in all_parts),
                "-".join(p[3] for p in all_parts),
            )
        if parts:
            yield _Token(m.start(), base + len(surface), whole, parts)


def _streams(
    text: str, splitter: CompoundSplitter | None, lang: str = "da"
) -> tuple[list[str], list[str]]:
    plain: list[str] = []
    folded: list[str] = []
    for tok in _tokens(text, splitter, lang):
        if tok.whole is not None:
            plain.append(tok.whole.plain)
            folded.append(tok.whole.folded)
        for part in tok.parts:
            plain.append(part.plain)
            folded.append(part.folded)
    return plain, folded


# --------------------------------------------------------------------------- encoder

# Mean plain-term count of a passage: corpus/seeds cut into 220-word chunks (the chunker's
# default target) give 140 terms after stopwords, hyphen parts included.
DEFAULT_AVG_LEN = 140.0


class SparseEncoder:
    """Danish BM25 sparse encoder. Stateless apart from its parameters; safe across threads."""

    def __init__(
        self,
        k1: float = 1.2,
        b: float = 0.75,
        avg_len: float = DEFAULT_AVG_LEN,
        fold_weight: float = 0.5,
        splitter: CompoundSplitter | None = None,
        thesaurus: Thesaurus | Callable[[], Thesaurus | None] | None = None,
    ) -> None:
        if k1 < 0 or not 0 <= b <= 1 or avg_len <= 0 or fold_weight < 0:
            raise ValueError("need k1 >= 0, 0 <= b <= 1, avg_len > 0, fold_weight >= 0")
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len
        self.fold_weight = fold_weight
        self.splitter = splitter
        # Query-side only (synonyms added to a query): no part of the signature, no re-index.
        # A loader is called at the first query: parsing takes seconds, and ingest needs none.
        self._thesaurus = thesaurus
        # Highlighting tokenises each shown passage again; the same passages come back often.
        self._passage_tokens = functools.lru_cache(maxsize=2048)(self._tokenise)

    @property
    def thesaurus(self) -> Thesaurus | None:
        if self._thesaurus is not None and not isinstance(self._thesaurus, Thesaurus):
            self._thesaurus = self._thesaurus()  # loaded once per process (Thesaurus.load)
        return self._thesaurus

    def _tokenise(self, text: str, lang: str = "da") -> tuple[_Token, ...]:
        return tuple(_tokens(text, self.splitter, _analysis_lang(lang)))

    @property
    def signature(self) -> str:
        """What the passage vectors depend on; store it with the index to detect a change."""
        compounds = self.splitter.fingerprint if self.splitter else "off"
        return (
            f"{ANALYZER_VERSION};k1={self.k1:g};b={self.b:g};avg_len={self.avg_len:g};"
            f"compounds={compounds}"
        )

    def terms(self, text: str, lang: str = "da") -> list[str]:
        """The plain term stream: stems in text order, compounds whole then by parts."""
        return _streams(text, self.splitter, _analysis_lang(lang))[0]

    def folded_terms(self, text: str, lang: str = "da") -> list[str]:
        """The folded term stream, parallel to :meth:`terms`."""
        return _streams(text, self.splitter, _analysis_lang(lang))[1]

    def _query_streams(
        self, query: str, danish: tuple[list[str], list[str]] | None = None
    ) -> tuple[set[str], set[str]]:
        """A query's terms: as Danish, and as English too unless the query is surely Danish.
        ``danish`` is the query's Danish analysis when the caller already has it."""
        plain, folded = danish or _streams(query, self.splitter, "da")
        if not surely_danish(query):
            en_plain, en_folded = _streams(query, self.splitter, ENGLISH)
            return set(plain) | set(en_plain), set(folded) | set(en_folded)
        return set(plain), set(folded)

    def encode_passage(self, text: str, lang: str = "da") -> SparseVector:
        """BM25 weights of a passage analysed in its language (English apart, else Danish)."""
        plain, folded = _streams(text, self.splitter, _analysis_lang(lang))
        if not plain:
            return SparseVector([], [])
        norm = self.k1 * (1 - self.b + self.b * len(plain) / self.avg_len)
        weights: dict[int, float] = {}
        for namespace, stream in ((_PLAIN, plain), (_FOLDED, folded)):
            for term, tf in Counter(stream).items():
                w = tf * (self.k1 + 1) / (tf + norm)
                i = term_id(term, namespace)
                weights[i] = weights.get(i, 0.0) + w  # sum on a (rare) hash collision
        return _vector(weights)

    def encode_query(self, text: str) -> SparseVector:
        """1.0 per distinct plain term, ``fold_weight`` per distinct folded term, of the
        query analysed both as Danish and as English; with a thesaurus, its synonyms of the
        Danish terms at ``thesaurus.WEIGHT`` of that."""
        danish = _streams(text, self.splitter, "da")
        plain, folded = self._query_streams(text, danish)
        weights: dict[int, float] = {}
        for term, weight in self._synonym_terms(danish[0], plain).items():
            weights[term_id(term[1], term[0])] = weight
        return self._query_vector(weights, plain, folded)

    def encode_query_english(self, text: str) -> SparseVector:
        """The query analysed as English only, as the English passages are (no thesaurus):
        a Danish question's names and terms ("tjener", "LTSP") stemmed the way an English
        passage that holds them was stemmed."""
        plain, folded = _streams(text, self.splitter, ENGLISH)
        return self._query_vector({}, plain, folded)

    def _query_vector(
        self, weights: dict[int, float], plain: Iterable[str], folded: Iterable[str]
    ) -> SparseVector:
        """``weights`` (synonyms) with the query's own terms over them: ``fold_weight`` per
        folded term, unless a synonym weighs more, and 1.0 per plain term."""
        for term in folded:
            i = term_id(term, _FOLDED)
            weights[i] = max(weights.get(i, 0.0), self.fold_weight)
        for term in plain:
            weights[term_id(term, _PLAIN)] = 1.0
        return _vector(weights)

    def _synonym_terms(
        self, danish_stems: list[str], plain: set[str]
    ) -> dict[tuple[str, str], float]:
        """(namespace, term) → weight of the thesaurus synonyms of the query's Danish terms
        (compounds whole and by parts), at ``thesaurus.WEIGHT`` of an original term's weight;
        none without a thesaurus. See :mod:`search.thesaurus`."""
        if self.thesaurus is None:
            return {}
        added: dict[tuple[str, str], float] = {}
        for stem in dict.fromkeys(danish_stems):
            for word in sorted(self.thesaurus.synonyms(stem)):
                s_plain, s_folded, keep = _analyse_word(word)
                if not keep or s_plain == stem or s_plain in plain:
                    continue
                added[(_PLAIN, s_plain)] = SYNONYM_WEIGHT
                added[(_FOLDED, s_folded)] = SYNONYM_WEIGHT * self.fold_weight
        return added

    def highlight_spans(self, text: str, query: str, lang: str = "da") -> list[tuple[int, int]]:
        """Character spans in ``text`` of words matching a query term, plain or folded.

        A compound matching as a whole is marked whole; otherwise its matching parts are.
        Spans are sorted and do not overlap.
        """
        q_plain, q_folded = self._query_streams(query)
        if not q_plain:
            return []

        def hit(p: _Part) -> bool:
            return p.plain in q_plain or p.folded in q_folded

        spans: list[tuple[int, int]] = []
        for tok in self._passage_tokens(text, lang):
            if tok.whole is not None and hit(tok.whole):
                spans.append((tok.whole.start, tok.whole.end))
            else:
                spans.extend((p.start, p.end) for p in tok.parts if hit(p))
        return spans


SURELY_DANISH = 0.9
SURELY_ENGLISH = 0.9


@functools.lru_cache(maxsize=4096)
def _query_language(query: str) -> tuple[float, float]:
    """langdetect's (Danish, English) probabilities of a query, detected once per query."""
    scores = language_scores(query)
    return scores.get("da", 0.0), scores.get("en", 0.0)


def surely_danish(query: str) -> bool:
    """Whether langdetect gives the query ≥ 0.9 Danish (short keyword queries rarely are)."""
    return _query_language(query)[0] >= SURELY_DANISH


def likely_danish(query: str) -> bool:
    """Whether langdetect leans Danish (≥ 0.5) and not English: a short question with
    a misspelt word or two ("okonomi i kommunerne" is 0.86)."""
    danish, english = _query_language(query)
    return danish >= 0.5 and english < 0.5


def likely_english(query: str) -> bool:
    """Whether langdetect leans English (≥ 0.5) and not Danish: an English question with a
    product name or two ("re-save a JPEG photo" is 0.57)."""
    danish, english = _query_language(query)
    return english >= 0.5 and danish < 0.5


def surely_english(query: str) -> bool:
    """Whether langdetect gives the query ≥ 0.9 English: an English question, not a keyword
    query that happens to look English ("basic shell starte program" is 0.86)."""
    return _query_language(query)[1] >= SURELY_ENGLISH


def _vector(weights: dict[int, float]) -> SparseVector:
    indices = sorted(weights)
    return SparseVector(indices, [float(weights[i]) for i in indices])


def danish_encoder(lexicon: Path | None, thesaurus: Path | None = None) -> SparseEncoder:
    """The encoder an index uses: BM25 defaults, compounds split by the word list ``lexicon``
    (none, or an unreadable one, turns splitting off with a warning), queries expanded with
    the synonyms of the MyThes thesaurus ``thesaurus`` (likewise)."""
    return SparseEncoder(
        splitter=CompoundSplitter.load(lexicon, DANISH_STOPWORDS, _stem),
        thesaurus=functools.partial(Thesaurus.load, thesaurus, _stem) if thesaurus else None,
    )


def _stem(word: str) -> str:
    return _stemmer().stemWord(word)
