"""Corrections to pdfminer's tables of PDF's standard font encodings.

WinAnsiEncoding codes the hyphen twice, at 45 and at 173 (PDF 1.7, Annex D, note 6);
pdfminer's table (``pdfminer.latin_enc``) has the space at 173 instead, so every hyphen a
font draws with code 173 became a space: dvips's Type 1 code fonts do (LuxiMono in the
PSTricks manuals: "pst labo" for ``pst-labo``, "( .5, .5)" for ``(-.5,-.5)``). poppler and
pdfium read 173 as the hyphen.
"""

from __future__ import annotations

from pdfminer.encodingdb import EncodingDB

WINANSI_HYPHEN = 173


def correct_encodings() -> None:
    """Fix the tables in place; fonts read them when a document is parsed, so call this
    before parsing any (idempotent)."""
    EncodingDB.win2unicode[WINANSI_HYPHEN] = "-"
