"""The extraction driver: every file is read in a worker process under a time limit and a
memory ceiling; a file that exceeds one is named, and the rest of the batch is read."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.driver import ReaderPool
from ops_search.config import Settings
from tests.conftest import FIXTURES

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def scanned_pdf(path: Path, pages: int) -> Path:
    """A PDF of page images without a text layer: reading it means OCR, seconds a page."""
    font = ImageFont.truetype(FONT, 28)
    images = []
    for n in range(pages):
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        for line in range(30):
            draw.text((100, 100 + 50 * line), f"Side {n + 1}: kommunernes samarbejde", font=font)
        images.append(image)
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
    return path


def settings_for(tmp_path: Path, **limits) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None, **limits)


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_a_file_over_the_time_limit_is_named_and_the_rest_of_the_batch_is_read(tmp_path):
    slow = scanned_pdf(tmp_path / "scannet.pdf", pages=12)
    good = [FIXTURES / "minutes.txt", FIXTURES / "two-column.pdf"]
    settings = settings_for(tmp_path, read_timeout=2, read_timeout_per_page=0)
    with ReaderPool(settings, workers=1) as pool:
        results = list(pool.read_all([(slow, None), *((g, None) for g in good)]))
    assert [r.path for r in results] == [slow, *good]
    assert results[0].error is not None
    assert str(slow) in results[0].error
    # Over its processor time, or (on a very busy machine) over ten times that in wall time.
    assert "the limit of 2 s of processor time" in results[0].error
    assert "OPS_READ_TIMEOUT" in results[0].error
    for result in results[1:]:
        assert result.error is None and result.chunks


def test_a_file_that_needs_more_memory_than_the_ceiling_is_named(tmp_path):
    # 1 GB of zeros, sparse on disk: reading it whole cannot fit under a 512 MB ceiling.
    huge = tmp_path / "stor.txt"
    with open(huge, "wb") as fh:
        fh.truncate(1 << 30)
    settings = settings_for(tmp_path, read_memory_mb=512, max_text_mb=5000)
    with ReaderPool(settings, workers=1) as pool:
        result = pool.read(huge)
        after = pool.read(FIXTURES / "minutes.txt")
    assert result.error is not None and str(huge) in result.error
    assert "memory" in result.error and "512 MB" in result.error
    assert after.error is None and after.chunks


def test_a_reader_killed_from_outside_is_reported_and_replaced(tmp_path):
    slow = scanned_pdf(tmp_path / "scannet.pdf", pages=8)
    with ReaderPool(settings_for(tmp_path), workers=1) as pool:
        outcome = {}
        reading = threading.Thread(target=lambda: outcome.update(r=pool.read(slow)))
        reading.start()
        deadline = time.monotonic() + 30
        while not pool.processes and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        os.kill(pool.processes[0], 9)
        reading.join(60)
        after = pool.read(FIXTURES / "minutes.txt")
    assert "reader process was killed (SIGKILL)" in outcome["r"].error
    assert after.error is None and after.chunks


def test_no_reader_process_outlives_the_pool(tmp_path):
    pool = ReaderPool(settings_for(tmp_path), workers=2)
    list(pool.read_all([(FIXTURES / "minutes.txt", None), (FIXTURES / "two-column.pdf", None)]))
    pids = pool.processes
    assert len(pids) == 2
    pool.close()
    assert not any(pid_exists(pid) for pid in pids)


def test_files_come_back_in_the_order_given_whatever_order_they_finish_in(tmp_path):
    names = ["two-column.pdf", "minutes.txt", "hyphenated.pdf", "latin1.txt", "utf8-bom.txt"]
    files = [FIXTURES / n for n in names]
    with ReaderPool(settings_for(tmp_path), workers=2) as pool:
        results = list(pool.read_all((f, None) for f in files))
    assert [r.path for r in results] == files
    assert all(r.error is None for r in results)


def test_an_internal_error_names_itself_and_leaves_the_traceback_in_the_log(tmp_path, monkeypatch):
    """A bug of ours is not blamed on the file (shown with a chunker that raises, in the
    reading function the workers run)."""
    import logging

    from ingest import pipeline

    def broken(self, document):
        raise IndexError("index 619 is out of bounds for axis 0 with size 597")

    monkeypatch.setattr(pipeline.Chunker, "chunk", broken)
    log_file = tmp_path / "ingest.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger("ops_search").addHandler(handler)
    try:
        result = pipeline.extract(
            FIXTURES / "minutes.txt", settings_for(tmp_path), log_file=log_file
        )
    finally:
        logging.getLogger("ops_search").removeHandler(handler)
        handler.close()
    assert result.error is not None and "minutes.txt" in result.error
    assert "internal error while reading (IndexError: index 619" in result.error
    assert "corrupt" not in result.error and f"see {log_file}" in result.error
    logged = log_file.read_text()
    assert "Traceback" in logged and "broken" in logged
