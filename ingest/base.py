"""The reader protocol: one reader per format turns a file into blocks on pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ops_search.config import Settings
from ops_search.models import Block, DocType, Format

# Called once per page read (page number, whether it was OCRed), for progress display.
PageCallback = Callable[[int, bool], None]


@dataclass
class Extracted:
    """What a reader found in a file, before document-level assembly."""

    format: Format
    blocks: list[Block]
    page_count: int
    title: str | None = None
    ocr_pages: set[int] = field(default_factory=set)
    skipped_pages: dict[int, str] = field(default_factory=dict)
    # Pages read by a simpler method because the usual analysis failed: page → reason.
    degraded_pages: dict[int, str] = field(default_factory=dict)
    # Set when a fallback reader read the whole file (e.g. "pypdfium2").
    reader: str = ""
    warnings: list[str] = field(default_factory=list)
    doc_type_hint: DocType | None = None
    # The language the file declares (HTML's <html lang>), trusted where the text is too
    # short for detection to judge.
    declared_lang: str | None = None
    # Index terms the file's author gave it (see ingest/keywords.py).
    keywords: list[str] = field(default_factory=list)


class Reader(Protocol):
    format: Format

    def read(
        self, path: Path, settings: Settings, on_page: PageCallback | None = None
    ) -> Extracted:
        """Read ``path``; raise an ``IngestError`` subclass naming the problem."""
        ...
