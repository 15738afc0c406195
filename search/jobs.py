"""Upload jobs, kept in the index's database so that they outlive the server process.

A job is stored as the JSON the API shows (``api.schemas.Job``; this module does not parse
it) with its status in a column of its own, plus what is needed to run it again after a
restart: the paths of the originals it indexes, and how often it was resumed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from search.database import Database

UNFINISHED = ("queued", "running")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    originals TEXT NOT NULL,
    resumed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
"""


@dataclass
class StoredJob:
    id: str
    status: str
    record: str  # the job as JSON
    originals: list[str]  # one stored file per job file, in order
    resumed: int


class JobStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure(SCHEMA)

    def create(self, job_id: str, status: str, record: str, originals: list[str]) -> None:
        with self.db.write() as db:
            db.execute(
                "INSERT INTO jobs (id, status, record, originals) VALUES (?, ?, ?, ?)",
                (job_id, status, record, json.dumps(originals)),
            )

    def update(self, job_id: str, status: str, record: str, *, resumed: int | None = None) -> None:
        """Save a job's new state; ``resumed`` sets how often it was resumed after a crash."""
        with self.db.write() as db:
            db.execute(
                "UPDATE jobs SET status = ?, record = ?, resumed = coalesce(?, resumed) "
                "WHERE id = ?",
                (status, record, resumed, job_id),
            )

    def get(self, job_id: str) -> str | None:
        """The job as JSON, or None."""
        with self.db.read() as db:
            row = db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def unfinished(self) -> list[StoredJob]:
        """Jobs that were queued or running: after a restart, those whose server was stopped."""
        marks = ", ".join("?" * len(UNFINISHED))
        with self.db.read() as db:
            rows = db.execute(
                f"SELECT id, status, record, originals, resumed FROM jobs "
                f"WHERE status IN ({marks}) ORDER BY rowid",
                UNFINISHED,
            ).fetchall()
        return [StoredJob(i, s, r, json.loads(o), n) for i, s, r, o, n in rows]
