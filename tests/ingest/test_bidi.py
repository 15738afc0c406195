"""Right-to-left text from a PDF page is put back into reading order."""

from __future__ import annotations

import pytest

from ingest.bidi import logical_order


def _visual(logical: str) -> str:
    """How a left-to-right extraction reads a purely right-to-left line."""
    return logical[::-1]


@pytest.mark.parametrize(
    "logical",
    [
        "اختبار دعم اللغة العربية",  # Arabic: "a test of Arabic support"
        "שלום עולם",  # Hebrew: "hello world"
        "מידע לתושבים על פסולת",  # Hebrew: "information for residents on waste"
    ],
)
def test_a_right_to_left_line_is_read_from_right_to_left(logical):
    assert logical_order(_visual(logical)) == logical


def test_numbers_keep_their_digit_order_inside_right_to_left_text():
    # Typeset visually as "2025 שנת": the year's digits run left to right even there.
    assert logical_order("2025 תנש") == "שנת 2025"


def test_a_left_to_right_word_inside_right_to_left_text_stays_as_it_is():
    assert logical_order("LibreOffice ב םיצבק") == "קבצים ב LibreOffice"


def test_a_right_to_left_word_in_a_danish_line_is_turned_alone():
    # A Danish sentence quoting one Hebrew word ("shalom"), extracted left to right.
    assert logical_order("Ordet םולש betyder fred") == "Ordet שלום betyder fred"


def test_brackets_of_right_to_left_text_are_mirrored():
    # "(שלום)" is typeset right to left with mirrored glyphs: seen from the left, "(" first.
    assert logical_order("(םולש)") == "(שלום)"


def test_combining_marks_stay_with_their_letter():
    # Hebrew with a vowel point: shin + qamats, lamed; visual order is lamed, shin + qamats.
    assert logical_order("ל\u05e9\u05b8") == "\u05e9\u05b8ל"


@pytest.mark.parametrize(
    "line", ["Rammeaftale om takster 2025", "Øresund – (kr.) 1.250", "", "   ", "ÆØÅ æøå"]
)
def test_lines_without_right_to_left_letters_are_unchanged(line):
    assert logical_order(line) is line
