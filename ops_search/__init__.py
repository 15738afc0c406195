"""ops-search: search Danish public-sector documents on public-private cooperation (OPS)."""

__version__ = "0.1.0"
