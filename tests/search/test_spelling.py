"""OCR-damaged Danish is mended for the models' eyes only: the word list decides, a clean
passage is left alone, and the passage shown stays as printed. A question typed without æ, ø
and å is mended before it is searched."""

from __future__ import annotations

import pytest

from ops_search.models import Chunk
from search.index import Index, sparse_input
from search.query import Searcher, SearchRequest
from search.spelling import QuestionSpelling, SpellingRepair
from search.windows import window_inputs
from tests.conftest import quiet_reporter

WORDS = ["sjælland", "økonomisk", "område", "på", "væksten", "været", "mødes", "modes", "gps",
         "høj", "står", "takster", "hør", "hærd", "herd"]  # fmt: skip
DAMAGED = "Veeksten pa omrade i Sjeelland har veeret gkonomisk kolossal."


@pytest.fixture(scope="module")
def repair() -> SpellingRepair:
    return SpellingRepair(WORDS)


def test_damaged_words_become_the_one_listed_word_with_their_skeleton(repair):
    assert repair.repair("Sjeelland gkonomisk omrade pa") == "Sjælland økonomisk område på"
    assert repair.repair("Veeksten har veeret stor") == "Væksten har været stor"


def test_a_skeleton_two_listed_words_share_is_left_alone(repair):
    assert repair.correction("mgdes") is None  # "mødes" or "modes"
    assert repair.correction("Sjeelland") == "Sjælland"


def test_a_clean_passage_with_one_odd_word_is_not_touched(repair):
    """One match in a clean text is more likely a name or a foreign word than damage."""
    text = "Kommunerne mødes i Sjælland om økonomisk styring, og planen er klar pa tirsdag."
    assert repair.repair(text) == text


def test_acronyms_and_addresses_keep_their_spelling(repair):
    text = "OPS i Sjeelland pa omrade, se www.sjaelland.dk eller skriv til kkr@sjaelland.dk"
    out = repair.repair(text)
    assert out.startswith("OPS i Sjælland på område")  # "OPS" folds like "gps"
    assert out.endswith("se www.sjaelland.dk eller skriv til kkr@sjaelland.dk")


@pytest.fixture(scope="module")
def mender() -> QuestionSpelling:
    return QuestionSpelling(WORDS)


def test_a_question_typed_without_danish_letters_is_mended(mender):
    """A typist writes æ, ø, å as "ae", "oe", "aa", or leaves the marks out altogether."""
    assert mender.mend_query("Hvad staar der om takster paa Sjaelland?") == (
        "Hvad står der om takster på Sjælland?"
    )
    # "vaekst" spells no listed word ("væksten" is): left as typed
    assert mender.mend_query("hoej vaekst okonomisk omrade") == "høj vaekst økonomisk område"
    assert mender.typed("hoer") == "hør"
    assert mender.typed("haerd") == "hærd"  # not "herd", which the typist would write so


def test_names_and_english_words_in_a_question_keep_their_spelling():
    repair = QuestionSpelling(["navigatør", "døs", "øf", "vise", "kan"])
    question = "Kan Navigator vise, what does it do of"
    assert repair.mend_query(question) == question


def test_a_question_is_mended_by_its_letters_not_by_the_ocr_skeleton():
    """OCR's skeleton joins "keep" and "kæp"; a typist leaving æ out writes "kep"."""
    repair = QuestionSpelling(["kæp", "økonomi", "i"])
    assert repair.mend_question("keep okonomi i") == ("keep økonomi i", False)
    assert repair.mend_question("kep") == ("kæp", False)
    assert repair.mend_question("kaep") == ("kæp", True)  # ae for æ: a Danish typist


def test_a_question_holding_danish_letters_is_searched_as_typed(mender):
    question = "Hvad står der om takster paa Sjaelland?"
    assert mender.mend_query(question) == question


def test_acronyms_and_addresses_in_a_question_keep_their_spelling(mender):
    assert mender.mend_query("GPS paa www.sjaelland.dk") == "GPS på www.sjaelland.dk"
    assert mender.mend_query("paa help.omrade.org") == "på help.omrade.org"


def _chunk(text: str, lang: str) -> Chunk:
    return Chunk(
        id="c1",
        document_id="d1",
        title="Pressemeddelelse",
        source="p.pdf",
        text=text,
        page_start=1,
        page_end=1,
        section="",
        char_start=0,
        char_end=len(text),
        lang=lang,
    )


def test_the_models_read_the_mended_text_of_a_passage_not_in_english(repair):
    danish = _chunk(DAMAGED, "da")
    assert (
        "Væksten på område i Sjælland har været økonomisk"
        in window_inputs(danish, repair=repair.repair)[0]
    )
    assert sparse_input(danish, repair.repair) == repair.repair(DAMAGED)
    assert danish.text == DAMAGED
    english = _chunk(DAMAGED, "en")
    assert window_inputs(english, repair=repair.repair) == window_inputs(english)


def test_an_ocr_damaged_press_release_is_closer_to_the_question_when_mended(
    tmp_path, settings, embedder, shared_cache
):
    release = tmp_path / "pressemeddelelse.txt"
    release.write_text(
        "Naestformand i KKR Sjeelland Pernille Beckmann siger: Det er et omrade, hvor "
        "veeksten i udgifterne har veeret kolossal, og hvor vi ma finde feelles lgsninger "
        "pa tveers af kommunerne i hele Sjeelland.\n",
        encoding="utf-8",
    )
    question = "Hvad sagde næstformanden i KKR Sjælland om væksten i udgifterne?"
    scores = {}
    for on in (False, True):
        s = settings.model_copy(
            update={
                "data_dir": tmp_path / f"data-{on}",
                "cache_dir": shared_cache,
                "spelling_repair": on,
            }
        )
        with Index.open(s, role="test", embedder=embedder) as index:
            index.ingest([release], quiet_reporter())
            hits = Searcher(index).search(SearchRequest(query=question, mode="dense")).hits
            assert hits[0].text.startswith("Naestformand i KKR Sjeelland")  # as printed
            scores[on] = hits[0].score
    assert scores[True] > scores[False] + 0.02
