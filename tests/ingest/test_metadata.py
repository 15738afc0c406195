"""Document type and date are found in the text or left empty, never invented."""

from ingest.metadata import document_date, document_type, find_dates


def test_danish_long_dates_are_found():
    assert find_dates("Afholdes fredag den 25. november 2016 kl. 8.00")[0][1] == "2016-11-25"


def test_numeric_and_iso_dates_are_found():
    assert [d for _, d in find_dates("Mødedato 14-03-2024 og 2024-04-02")] == [
        "2024-03-14",
        "2024-04-02",
    ]


def test_impossible_dates_are_ignored():
    assert find_dates("kl. 45. marts 2020 og 31-13-2020") == []


def test_document_date_falls_back_to_month_and_year():
    assert document_date("Projekt September 2013 KORA") == "2013-09"


def test_document_without_a_date_has_none():
    assert document_date("Et fællesmøde den 22. oktober, hvor kommunerne mødes.") is None


def test_press_release_type_from_text():
    assert document_type("Partnerskab", "Formanden udtaler i den forbindelse …") == (
        "pressemeddelelse"
    )


def test_minutes_type_from_decision_labels():
    assert document_type("KKR Sjælland", "Punkt 3\nBeslutning: Godkendt.") == "referat"


def test_unknown_type_is_none():
    assert document_type("Notat", "Lidt tekst uden kendetegn.") is None


def test_html_article_hint_is_used_when_title_says_nothing():
    assert document_type("Skaksens analyser", "Tekst om en KORA-rapport", "artikel") == "artikel"
