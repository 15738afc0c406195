"""One exception type per kind of failure, caught at the edge (CLI line, API problem+json)."""

from __future__ import annotations

from pathlib import Path


class OpsSearchError(Exception):
    """Base class: the message speaks to a person and names what went wrong."""


class IngestError(OpsSearchError):
    """A file could not be read. ``str(err)`` names the file and the problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class UnsupportedFormat(IngestError):
    pass


class EncryptedPDF(IngestError):
    pass


class CorruptFile(IngestError):
    pass


class EmptyFile(IngestError):
    pass


class IndexLocked(OpsSearchError):
    """Another process holds the embedded index."""


class ModelMismatch(OpsSearchError):
    """The index was built with another embedding model."""


class NotFound(OpsSearchError):
    pass
