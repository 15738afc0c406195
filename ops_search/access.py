"""Collections and who may read them.

Every document belongs to one collection, a short slug (``offentlig``, ``intern``). A reader
is described by an :class:`Access`: the collections it may see (or all of them) and whether
it may write. Keys carry their rights in ``OPS_API_KEYS``, comma-separated::

    KEY                          admin: reads every collection, uploads and deletes
    KEY:admin                    the same, said outright
    KEY:read=offentlig+intern    reads those collections only

Anonymous readers see the collections of ``OPS_PUBLIC_COLLECTIONS`` (``+`` or comma between
names; empty = none).

    >>> keys = parse_keys("s3cret:admin,team:read=offentlig+intern")
    >>> keys["team"].allows("intern"), keys["team"].allows("hemmelig"), keys["team"].write
    (True, False, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_COLLECTION = "offentlig"
COLLECTION_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
_COLLECTION = re.compile(COLLECTION_PATTERN)


def check_collection(name: str) -> str:
    """``name`` if it is a valid collection name, else ValueError saying what one is."""
    if not isinstance(name, str) or not _COLLECTION.fullmatch(name):
        shown = repr(name[:50]) if isinstance(name, str) else repr(name)
        raise ValueError(
            f"{shown} is not a collection name: use 1 to 40 lowercase letters a-z, digits, "
            "'-' or '_', starting with a letter or digit (e.g. offentlig)"
        )
    return name


def parse_collections(text: str) -> frozenset[str]:
    """Collection names separated by ``+`` or commas; empty text = none."""
    return frozenset(check_collection(n.strip()) for n in re.split(r"[+,]", text) if n.strip())


@dataclass(frozen=True)
class Access:
    """What one reader may do. ``collections`` None means every collection."""

    collections: frozenset[str] | None
    write: bool = False

    @property
    def sees_all(self) -> bool:
        return self.collections is None

    def allows(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections

    def visible(self, wanted: list[str] | None = None) -> frozenset[str] | None:
        """The collections a query may touch: those ``wanted`` (None = any) that this reader
        may see. None means no restriction; an empty set means nothing at all."""
        if wanted is None:
            return self.collections
        chosen = frozenset(wanted)
        return chosen if self.collections is None else chosen & self.collections


ADMIN = Access(collections=None, write=True)


def parse_keys(text: str) -> dict[str, Access]:
    """``OPS_API_KEYS`` as {key: Access}; ValueError naming the entry that is wrong (by its
    position, never by the key itself)."""
    keys: dict[str, Access] = {}
    for position, item in enumerate((i.strip() for i in text.split(",")), start=1):
        if not item:
            continue
        key, sep, rights = item.rpartition(":") if ":" in item else (item, "", "")
        key, rights = key.strip(), rights.strip()
        if not key:
            raise ValueError(f"entry {position} has no key before ':'")
        if not sep or rights == "admin":
            access = ADMIN
        elif rights.startswith("read="):
            try:
                names = parse_collections(rights.removeprefix("read="))
            except ValueError as err:
                raise ValueError(f"entry {position}: {err}") from None
            if not names:
                raise ValueError(f"entry {position}: read= names no collection")
            access = Access(collections=names)
        else:
            raise ValueError(
                f"entry {position}: rights must be 'admin' or 'read=NAME+NAME', not {rights[:30]!r}"
            )
        if key in keys and keys[key] != access:
            raise ValueError(f"entry {position} repeats a key with other rights")
        keys[key] = access
    return keys
