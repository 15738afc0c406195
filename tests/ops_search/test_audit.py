"""The audit log itself: key ids, --since values, and lines that stay whole when many
threads write at once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from ops_search.audit import ANONYMOUS, AuditLog, key_id, parse_since

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_a_key_id_is_short_stable_and_not_the_key():
    key = "hemmelig-nøgle-123"
    assert key_id(key) == key_id(key) and len(key_id(key)) == 8
    assert key not in key_id(key) and key_id(key) != key_id(key + "x")
    assert key_id(None) == key_id("") == ANONYMOUS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        (" 30m ", NOW - timedelta(minutes=30)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01T08:30", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("2026-12-01T08:30+01:00", datetime(2026, 12, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_since_takes_spans_and_iso_times(value, expected):
    assert parse_since(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["igår", "24", "h24", "1y", "2026-13-01", ""])
def test_a_bad_since_says_what_is_accepted(value):
    with pytest.raises(ValueError, match="ISO date or time .* 24h"):
        parse_since(value, now=NOW)


def test_concurrent_writes_stay_one_line_each(tmp_path):
    log = AuditLog.in_dir(tmp_path / "logs")
    long_route = "POST /documents " + "x" * 5000  # larger than one pipe-atomic write

    def write(n: int) -> None:
        for i in range(50):
            log.write(key=f"k{n}", route=long_route, document_id=f"{n:08x}{i:08x}", outcome="ok")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 400
    events = [json.loads(line) for line in lines]
    assert len({e["document_id"] for e in events}) == 400
    assert list(log.read()) == events


def test_a_failing_write_does_not_raise_and_a_damaged_line_is_skipped(tmp_path, caplog):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    AuditLog.in_dir(blocked).write(key="k", route="r", document_id=None, outcome="ok")
    assert "could not write the audit log" in caplog.text

    log = AuditLog.in_dir(tmp_path)
    log.write(key="k", route="r", document_id="a", outcome="ok")
    with open(log.path, "a") as fh:
        fh.write('{"time": "2026-12-0\n')  # a line cut short by a full disk
    log.write(key="k", route="r", document_id="b", outcome="ok")
    assert [e["document_id"] for e in log.read()] == ["a", "b"]
    assert [e["document_id"] for e in log.read(datetime.now(UTC) + timedelta(hours=1))] == []
