"""The audit log: who wrote what, and who read which original, as JSON lines.

One line per event in ``OPS_DATA_DIR/logs/audit.jsonl``::

    {"time": "2026-12-03T14:02:11+00:00", "key_id": "3f9a0c1d", "route": "DELETE /documents/{id}",
     "document_id": "a1b2c3d4e5f60718", "status": 204, "outcome": "ok"}

``key_id`` names a key without revealing it: the first 8 hex digits of its sha256, or
``anonymous`` when none was sent. Writes of the folder sync carry ``sync`` instead.

Writing a line never fails the work it records: an error is logged and the work goes on.
Lines are appended under a lock, one ``write`` each, and flushed at once, so concurrent
requests never interleave inside a line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger("ops_search.audit")

AUDIT_FILE = "audit.jsonl"
ANONYMOUS = "anonymous"
SYNC = "sync"

_lock = threading.Lock()


def key_id(key: str | None) -> str:
    """A short, stable name for an API key that does not reveal it."""
    if not key:
        return ANONYMOUS
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def outcome_of(status: int) -> str:
    """One word for an HTTP status, so that the log reads without a status table."""
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "denied"
    if status == 404:
        return "not found"
    if status < 500:
        return "rejected"
    return "error"


@dataclass
class AuditLog:
    path: Path

    @classmethod
    def in_dir(cls, log_dir: Path) -> AuditLog:
        return cls(log_dir / AUDIT_FILE)

    def write(
        self,
        *,
        key: str,
        route: str,
        document_id: str | None,
        outcome: str,
        status: int | None = None,
        **extra: object,
    ) -> None:
        """Append one event. ``key`` is a key id (see :func:`key_id`), never a key."""
        record = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "key_id": key,
            "route": route,
            "document_id": document_id,
            "status": status,
            "outcome": outcome,
            **extra,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with _lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # O_APPEND: a line lands whole at the end even beside another process.
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.write(line)
                    fh.flush()
        except Exception:  # the audit log must never fail the work it records
            log.exception("could not write the audit log %s; the event was: %s", self.path, line)

    def read(self, since: datetime | None = None) -> Iterator[dict]:
        """The events at or after ``since`` (all when None), oldest first. A damaged line
        (a disk that filled up mid-line) is skipped with a warning."""
        if not self.path.is_file():
            return
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                    when = datetime.fromisoformat(event["time"])
                except (ValueError, KeyError, TypeError):
                    log.warning("%s:%d: not an audit event, skipped", self.path, number)
                    continue
                if since is None or when >= since:
                    yield event


_SPAN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``24h``, ``7d``, ``30m``, ``2w`` (before now), or an ISO date or date-time (``2026-12-01``,
    ``2026-12-01T08:00``, with or without an offset; without one it is UTC). Raises
    ValueError with a message that says what is accepted."""
    now = now or datetime.now(UTC)
    match = _SPAN.match(value)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"expected an ISO date or time (2026-12-01, 2026-12-01T08:00) or a span back from "
            f"now (30m, 24h, 7d, 2w), not {value!r}"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
