"""Check a zip-based document (DOCX) before a library opens it: bounded, undamaged, no DTDs.

python-docx reads every part of the package whole into memory and hands the XML to lxml, so
a zip bomb costs gigabytes, and a damaged archive surfaces as zlib, zipfile or lxml errors,
before any limit of those libraries applies. Here each member is inflated once as a stream,
counting the bytes actually produced (a zip may lie about its sizes), so refusing a 1 GB bomb
costs a few megabytes of memory. Messages name the member and the problem in plain words.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from ops_search.errors import CorruptFile

MB = 1_000_000
# Word writes a few dozen parts; a book with many images a few hundred.
MAX_MEMBERS = 5_000
# Per member and in all: far beyond any real DOCX (whose text is capped at max_text_mb anyway).
MAX_MEMBER_BYTES = 200 * MB
MAX_TOTAL_BYTES = 200 * MB
# Deflated XML shrinks about 5–20 times; repeated filler shrinks up to 1,000 times. A large
# member that shrank more than this is a bomb, not a document.
MAX_RATIO = 200
RATIO_MIN_BYTES = 10 * MB
_READ = 1 << 20  # inflate a megabyte at a time
# Word never writes a DTD, and OPC forbids them: a DOCTYPE can only be there to declare
# entities (billion laughs, external entities).
_DOCTYPE = b"<!DOCTYPE"
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


def check_zip(path: Path, kind: str = "DOCX") -> None:
    """Raise ``CorruptFile`` unless every member of the zip at ``path`` inflates cleanly
    within the limits. ``OSError`` from reading the file itself is left to the caller."""
    with open(path, "rb") as fh:
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as err:
            raise CorruptFile(
                path, f"not a valid {kind} file (truncated or damaged zip archive: {err})"
            ) from err
        with archive:
            infos = archive.infolist()
            _check_declared(path, kind, infos)
            total = 0
            for info in infos:
                total += _inflate(path, kind, archive, info, MAX_TOTAL_BYTES - total)


def _check_declared(path: Path, kind: str, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse on what the central directory says, before inflating anything."""
    if len(infos) > MAX_MEMBERS:
        raise CorruptFile(
            path, f"{kind} refused: the zip holds {len(infos):,} parts (limit {MAX_MEMBERS:,})"
        )
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:
            raise CorruptFile(path, f"{kind} part {name} is encrypted; cannot read it")
        if info.compress_type not in _METHODS:
            raise CorruptFile(
                path,
                f"{kind} part {name} uses compression method {info.compress_type}, which "
                "Word never writes (only stored and deflate are read)",
            )
        _check_size(path, kind, name, info.file_size, info.compress_size)
    declared = sum(info.file_size for info in infos)
    if declared > MAX_TOTAL_BYTES:
        raise CorruptFile(
            path,
            f"{kind} refused: its parts expand to {declared / MB:,.0f} MB, over the limit of "
            f"{MAX_TOTAL_BYTES // MB} MB (zip bomb?)",
        )


def _check_size(path: Path, kind: str, name: str, size: int, packed: int) -> None:
    if size > MAX_MEMBER_BYTES:
        raise CorruptFile(
            path, f"{kind} refused: {name} expands to over {MAX_MEMBER_BYTES // MB} MB (zip bomb?)"
        )
    if size > RATIO_MIN_BYTES and size > MAX_RATIO * max(packed, 1):
        raise CorruptFile(
            path,
            f"{kind} refused: {name} expands {size // max(packed, 1):,} times (from "
            f"{packed / MB:.1f} MB to {size / MB:.0f} MB; zip bomb?)",
        )


def _inflate(
    path: Path, kind: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int
) -> int:
    """Inflate one member as a stream; return its size. Counts what is produced, not what
    the header claims, and scans XML parts for a DTD on the way."""
    name = info.filename
    count = 0
    tail = b""  # the end of the previous piece, so a DOCTYPE split across pieces is found
    needle = _DOCTYPE
    try:
        with archive.open(info) as member:
            while piece := member.read(_READ):
                if count == 0:
                    needle = _doctype_needle(piece)
                count += len(piece)
                if count > min(MAX_MEMBER_BYTES, budget) or count > info.file_size:
                    _refuse_runaway(path, kind, name, count, budget)
                _check_size(path, kind, name, count, info.compress_size)
                if name.lower().endswith(_XML_SUFFIXES):
                    if needle in tail + piece[: len(needle)] or needle in piece:
                        raise CorruptFile(
                            path,
                            f"{kind} part {name} declares a DTD (<!DOCTYPE …>), which Word "
                            "documents never contain; refused (entity expansion attack?)",
                        )
                    tail = piece[-len(needle) :]
    except CorruptFile:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OSError) as err:  # fmt: skip
        raise CorruptFile(path, f"{kind} part {name} is damaged ({_plain(err)})") from err
    return count


def _refuse_runaway(path: Path, kind: str, name: str, count: int, budget: int) -> None:
    if count > budget:
        raise CorruptFile(
            path,
            f"{kind} refused: its parts expand to over {MAX_TOTAL_BYTES // MB} MB (zip bomb?)",
        )
    if count > MAX_MEMBER_BYTES:
        raise CorruptFile(
            path, f"{kind} refused: {name} expands to over {MAX_MEMBER_BYTES // MB} MB (zip bomb?)"
        )
    # zipfile stops at the declared size, so this only fires if that ever changes.
    raise CorruptFile(path, f"{kind} part {name} is damaged (larger than its zip entry says)")


def _doctype_needle(head: bytes) -> bytes:
    """How "<!DOCTYPE" is spelled in a part: XML parts may be UTF-16 (with a byte order mark)."""
    if head.startswith(b"\xff\xfe"):
        return _DOCTYPE.decode().encode("utf-16-le")
    if head.startswith(b"\xfe\xff"):
        return _DOCTYPE.decode().encode("utf-16-be")
    return _DOCTYPE


def _plain(err: BaseException) -> str:
    """The library's complaint, said for a person."""
    text = str(err)
    if isinstance(err, zlib.error):
        return f"the compressed data is corrupt: {text}"
    if "CRC" in text:
        return "its checksum does not match: the data was changed or cut short"
    if isinstance(err, EOFError):
        return "the archive ends in the middle of it"
    if isinstance(err, NotImplementedError):
        return f"unsupported zip feature: {text}"
    return text or type(err).__name__
