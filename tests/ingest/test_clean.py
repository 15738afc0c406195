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
