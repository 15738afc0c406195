"""``ops-search ingest --dry-run``: bad input is reported and skipped, the rest goes on."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import CORPUS, FIXTURES, ROOT

EXE = ROOT / ".venv" / "bin" / "ops-search"
BAD = {
    "encrypted.pdf": "encrypted PDF",
    "corrupt.pdf": "corrupt PDF",
    "not-a-pdf.pdf": "not a PDF",
    "empty.txt": "empty file",
    "unsupported.xyz": "unsupported format .xyz",
}


def run(*args: str, cwd=ROOT, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "OPS_DATA_DIR": str(cwd / "data"), **(env_extra or {})}
    return subprocess.run(
        [str(EXE), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A folder with good files and every kind of bad one."""
    folder = tmp_path_factory.mktemp("mixed")
    shutil.copy(CORPUS / "skaksens-analyser-ops-socialomraadet.html", folder)
    shutil.copy(FIXTURES / "windows-1252.txt", folder)
    for name in BAD:
        shutil.copy(FIXTURES / name, folder)
    return folder


def test_dry_run_prints_one_json_object_per_chunk(mixed):
    proc = run("ingest", str(mixed / "skaksens-analyser-ops-socialomraadet.html"),
               "--dry-run", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows
    for row in rows:
        for key in ("id", "document_id", "title", "source", "text", "page_start", "page_end",
                    "section", "char_start", "char_end", "lang", "kind"):  # fmt: skip
            assert key in row


def test_named_bad_files_each_get_one_line_and_the_rest_goes_on(mixed):
    proc = run("ingest", *(str(mixed / n) for n in sorted(BAD)),
               str(mixed / "windows-1252.txt"), "--dry-run", "--json")  # fmt: skip
    assert proc.returncode == 0
    failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == len(BAD)
    for name, problem in BAD.items():
        assert any(name in ln and problem in ln for ln in failed), (name, failed)
    assert "Traceback" not in proc.stderr
    assert any(
        json.loads(ln)["source"].endswith("windows-1252.txt") for ln in proc.stdout.splitlines()
    )


def test_summary_counts_files_pages_chunks_and_failures(mixed):
    proc = run("ingest", str(mixed), "--dry-run")
    summary = proc.stderr.strip().splitlines()[-1]
    assert summary.startswith("summary: ")
    assert "2 ingested" in summary and "4 failed" in summary  # .xyz is passed over in folders
    assert "OCR page(s)" in summary and " s" in summary


def test_strict_makes_any_failure_exit_1(mixed):
    assert run("ingest", str(mixed), "--dry-run", "--strict").returncode == 1


def test_nothing_ingested_exits_1(mixed):
    assert run("ingest", str(mixed / "corrupt.pdf"), "--dry-run").returncode == 1


def test_missing_path_is_reported(mixed):
    proc = run("ingest", str(mixed / "findes-ikke.pdf"), "--dry-run")
    assert "no such file or folder" in proc.stderr and proc.returncode == 1


def test_folders_honour_opsignore(tmp_path):
    shutil.copy(FIXTURES / "windows-1252.txt", tmp_path / "a.txt")
    (tmp_path / "kladder").mkdir()
    shutil.copy(FIXTURES / "latin1.txt", tmp_path / "kladder" / "b.txt")
    (tmp_path / ".opsignore").write_text("kladder/\n", encoding="utf-8")
    proc = run("ingest", str(tmp_path), "--dry-run", "--json")
    sources = {json.loads(ln)["source"] for ln in proc.stdout.splitlines()}
    assert len(sources) == 1 and next(iter(sources)).endswith("a.txt")


def test_progress_is_plain_lines_when_not_a_terminal(mixed):
    proc = run("ingest", str(mixed), "--dry-run")
    assert any(ln.startswith("ok ") for ln in proc.stderr.splitlines())
    assert "\x1b[" not in proc.stderr  # no terminal control codes in logs
