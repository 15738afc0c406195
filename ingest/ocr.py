"""OCR of scanned PDF pages: render with pypdfium2, recognise with tesseract (Danish + English).

Tesseract runs as a subprocess per page, several at once (one per core), each limited to one
thread: measured ≈4–5 s per page per core, so pages in parallel is what makes OCR bearable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium

from ops_search.config import Settings


class OcrUnavailable(Exception):
    """Tesseract or its language data is missing; the message says what to install."""


def check_tesseract(lang: str) -> None:
    """Raise OcrUnavailable unless tesseract and every language in ``lang`` are installed."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise OcrUnavailable("tesseract is not installed (apt-get install tesseract-ocr)")
    out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    have = set(out.stdout.split())
    missing = [code for code in lang.split("+") if code not in have]
    if missing:
        packages = " ".join(f"tesseract-ocr-{code}" for code in missing)
        raise OcrUnavailable(
            f"tesseract lacks language data {missing} (apt-get install {packages})"
        )


def ocr_pages(
    path: Path,
    page_numbers: Iterable[int],
    settings: Settings,
    on_done: Callable[[int], None] | None = None,
) -> dict[int, str]:
    """OCR the given 1-based pages of a PDF; return page number → recognised text."""
    numbers = sorted(set(page_numbers))
    if not numbers:
        return {}
    check_tesseract(settings.ocr_lang)
    results: dict[int, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="ops-ocr-") as tmp,
        ThreadPoolExecutor(max_workers=settings.effective_ocr_workers) as pool,
    ):
        futures: dict[Future[str], int] = {}
        # pdfium is not thread-safe: render here, one page at a time, and let the
        # workers (which only wait on tesseract processes) recognise in parallel.
        pdf = pdfium.PdfDocument(str(path))
        try:
            for number in numbers:
                image_path = Path(tmp) / f"page-{number}.png"
                page = pdf[number - 1]
                bitmap = page.render(scale=settings.ocr_dpi / 72, grayscale=True)
                bitmap.to_pil().save(image_path)
                bitmap.close()
                page.close()
                futures[pool.submit(_tesseract, image_path, settings.ocr_lang)] = number
        finally:
            pdf.close()
        for future, number in futures.items():
            results[number] = future.result()
            if on_done:
                on_done(number)
    return results


def _tesseract(image_path: Path, lang: str) -> str:
    # One thread per tesseract process: we already run one process per core.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    proc = subprocess.run(
        ["tesseract", str(image_path), "stdout", "-l", lang, "--psm", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if proc.returncode != 0:
        raise OcrUnavailable(f"tesseract failed: {proc.stderr.strip()[:200]}")
    return proc.stdout
