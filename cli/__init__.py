"""The ``ops-search`` command line. It sits above every layer (ingest, search, api) and
imports them; nothing below imports it."""
