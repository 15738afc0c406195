"""Cleaning undoes typesetting artefacts and nothing else."""

from ingest.clean import join_lines, normalize_line, vocabulary_of


def test_ligatures_are_expanded():
    assert normalize_line("proﬁl og ﬂere ﬀ") == "profil og flere ff"


def test_soft_hyphens_and_pdfium_hyphen_markers_are_removed():
    assert normalize_line("samar\u00adbejde") == "samarbejde"
    assert normalize_line("kommu\u0002") == "kommu"


def test_text_is_nfc_normalised():
    decomposed = "a\u030a"  # "å" as a + combining ring
    assert normalize_line(decomposed) == "å"


def test_spaces_collapse_and_lines_are_trimmed():
    assert normalize_line("  to\u00a0  ord \t ") == "to ord"


def test_typesetting_hyphen_at_line_end_is_joined():
    assert join_lines(["et godt samar-", "bejde mellem kommu-", "nerne"]) == (
        "et godt samarbejde mellem kommunerne"
    )


def test_real_compound_hyphen_is_kept_when_the_document_uses_it():
    vocab = vocabulary_of(["Et offentlig-privat samarbejde."])
    assert join_lines(["om offentlig-", "privat samspil"], vocab) == "om offentlig-privat samspil"


def test_suspended_compound_keeps_hyphen_and_space():
    assert join_lines(["på bo-", "og døgntilbud"]) == "på bo- og døgntilbud"


def test_hyphen_before_capital_or_digit_is_kept():
    assert join_lines(["OPS-", "Modellen"]) == "OPS-Modellen"
    assert join_lines(["perioden 2012-", "2013"]) == "perioden 2012-2013"


def test_joined_form_in_vocabulary_wins_over_hyphen():
    vocab = vocabulary_of(["Driftsoverenskomster er udbredte."])
    assert join_lines(["i driftsoverens-", "komster"], vocab) == "i driftsoverenskomster"


# --- spacing accents: old TeX sets "ü" as "u" plus a "¨" glyph; extraction yields "fu¨r" --------


def test_spacing_accent_after_its_letter_is_composed():
    assert normalize_line("fu¨r die Universita¨t") == "für die Universität"


def test_spacing_accent_before_its_letter_is_composed():
    assert normalize_line("sie k¨onnen ¨uber") == "sie können über"


def test_danish_ring_is_composed_in_either_order():
    assert normalize_line("p˚a ˚Arhus, a˚ og B˚ard") == "på Århus, å og Bård"


def test_acute_grave_circumflex_tilde_cedilla_caron_are_composed():
    assert normalize_line("Ide´ H`an ˆetre S˜ao Franc¸ois Buˇsa") == (
        "Idé Hàn être São François Buša"
    )


def test_accent_between_two_vowels_takes_the_one_no_other_accent_took():
    assert normalize_line("e´e´n") == "één"  # pdfplumber's order: accents after their letters
    assert normalize_line("´e´en") == "één"  # content-stream order: accents first


def test_accent_on_dotless_i_makes_an_accented_i():
    assert normalize_line("na¨ıve Ma¨ıeul") == "naïve Maïeul"


def test_two_accents_on_one_letter_stack():
    assert normalize_line("Thˆe´") == "Thế"


def test_composed_text_is_nfc():
    import unicodedata

    text = normalize_line("fu¨r ˚a")
    assert text == unicodedata.normalize("NFC", text) and len(text) == 5


def test_accent_without_a_precomposed_letter_is_left_alone():
    assert normalize_line("5 ˚C og q¨") == "5 ˚C og q¨"


def test_accent_standing_alone_between_spaces_is_left_alone():
    assert normalize_line("tulemus ˜ pole") == "tulemus ˜ pole"


def test_acute_used_as_apostrophe_is_left_alone():
    assert normalize_line("don´t, Peter´s, we´re") == "don´t, Peter´s, we´re"


def test_ascii_circumflex_and_tilde_in_code_are_left_alone():
    for code in ("x^2", "~/path", "a ^ b", "This~is~not~allowed.", "{e^x}", "[start~angle=0]"):
        assert normalize_line(code) == code


def test_backticks_as_quotes_are_left_alone():
    for quoted in ("``quoted''", "`inputenc’ package", "`make`"):
        assert normalize_line(quoted) == quoted


def test_accent_glyph_in_code_is_left_alone():
    assert normalize_line(r"\DeclareInputText{131}{\ˆa}") == r"\DeclareInputText{131}{\ˆa}"
