"""Export and import of accepted kernels between caches, as one signed file.

A bundle is signed with HMAC under an export key (``export.key`` in the exporting cache, mode 0600), not the
cache's own secret: handing the export key to another machine lets it trust bundles from this cache without being
able to forge entries inside it. The importer names the key it trusts (at least ``MIN_TRUSTED_KEY_BYTES`` long);
entries from a bundle that does not verify under it are never stored. Each entry is re-signed by the importing
cache.

File layout (version 2)::

    aikg-kernel-bundle v2 <N>\\n     the header line: N is the byte length of the body
    <N bytes>                       one entry (CacheEntry JSON) per line
    <64 hex digits>\\n               HMAC-SHA256 under the export key of the header line and the body

An import reads the header (a fixed pattern, no JSON), refuses a body over the size cap before reading it, streams
the body through the HMAC into a private temporary copy in fixed-size chunks, and parses entries from that copy
only after the signature matched: memory stays bounded whatever the file holds, and nothing unsigned is parsed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
import tempfile
from pathlib import Path
from typing import IO

from .keys import KeyFileError, load_or_create_key, read_trusted_key
from .records import CacheEntry, RecordError
from .store import KernelCache

BUNDLE_VERSION = 2
EXPORT_KEY = "export.key"
DEFAULT_MAX_BUNDLE_BYTES = 256 * 2**20  # about 50,000 typical entries; raise with --max-size
_HEADER = re.compile(rb"aikg-kernel-bundle v(\d{1,4}) (\d{1,15})\n")
_HEADER_MAX = 64
_TRAILER = re.compile(rb"[0-9a-f]{64}\n")
_TRAILER_BYTES = 65
_CHUNK = 1 << 20


class BundleError(ValueError):
    """A bundle that cannot be read, is too large, or is not signed by the trusted key; the message says which."""


@dataclasses.dataclass(frozen=True)
class ImportResult:
    added: int
    replaced: int
    unchanged: int
    older: int = 0  # skipped: created before the entry the cache holds for the key (a replayed older export)


def default_export_key(cache: KernelCache) -> Path:
    return cache.directory / EXPORT_KEY


def export_bundle(cache: KernelCache, path: Path, key_file: Path | None = None) -> int:
    """Write every valid entry of ``cache`` to ``path``, signed with ``key_file`` (default: the cache's export
    key, created on first use). Returns the number of entries written."""
    try:
        key = load_or_create_key(key_file or default_export_key(cache), create=not cache.read_only or bool(key_file))
    except KeyFileError as err:
        raise BundleError(f"{err} (give --key KEYFILE to sign with a key kept elsewhere)") from None
    body = b"".join(sorted(entry.payload() + b"\n" for entry in cache.entries()))
    header = f"aikg-kernel-bundle v{BUNDLE_VERSION} {len(body)}\n".encode()
    signature = hmac.new(key, header + body, hashlib.sha256).hexdigest()
    path.write_bytes(header + body + signature.encode() + b"\n")
    return body.count(b"\n")


def read_bundle(path: Path, trusted_key_file: Path, max_bytes: int = DEFAULT_MAX_BUNDLE_BYTES) -> list[CacheEntry]:
    """The entries of the bundle at ``path`` if it is signed by ``trusted_key_file`` and its body is at most
    ``max_bytes``; BundleError otherwise."""
    try:
        key = read_trusted_key(trusted_key_file)
    except KeyFileError as err:
        raise BundleError(str(err)) from None
    try:
        with open(path, "rb") as bundle, tempfile.TemporaryFile() as copy:
            _copy_if_signed(bundle, copy, key, path, trusted_key_file, max_bytes)
            copy.seek(0)
            return [_entry(line, path) for line in copy]
    except OSError as err:
        raise BundleError(f"cannot read the bundle {path}: {err.strerror}") from None


def _copy_if_signed(bundle: IO[bytes], copy: IO[bytes], key: bytes, path: Path, trusted: Path, max_bytes: int) -> None:
    header = bundle.readline(_HEADER_MAX)
    match = _HEADER.fullmatch(header)
    if match is None:
        raise BundleError(f"{path} is not an aikg kernel bundle (or one made by an aikg older than bundle "
                          f"version {BUNDLE_VERSION}: export it again)")
    if int(match[1]) != BUNDLE_VERSION:
        raise BundleError(f"{path} is bundle version {int(match[1])}; this aikg reads {BUNDLE_VERSION}")
    size = int(match[2])
    on_disk = os.fstat(bundle.fileno()).st_size
    if max(size, on_disk - len(header)) > max_bytes:
        raise BundleError(f"{path} holds {max(size, on_disk - len(header)):,} bytes, over the import cap of "
                          f"{max_bytes:,} (raise it with --max-size)")
    mac = hmac.new(key, header, hashlib.sha256)
    left = size
    while left:
        chunk = bundle.read(min(_CHUNK, left))
        if not chunk:
            raise BundleError(f"{path} is truncated")
        mac.update(chunk)
        copy.write(chunk)
        left -= len(chunk)
    trailer = bundle.read(_TRAILER_BYTES + 1)  # one byte more: data after the signature line is damage too
    if _TRAILER.fullmatch(trailer) is None:
        raise BundleError(f"{path} is truncated or damaged (no signature line where one belongs)")
    if not hmac.compare_digest(mac.hexdigest().encode(), trailer[:-1]):
        raise BundleError(f"{path} is not signed by the trusted key {trusted} (or was modified)")


def _entry(line: bytes, path: Path) -> CacheEntry:
    try:
        return CacheEntry.from_payload(line)
    except RecordError as err:
        raise BundleError(f"{path} holds an entry this aikg cannot read: {err}") from None


def import_bundle(cache: KernelCache, path: Path, trusted_key_file: Path,
                  max_bytes: int = DEFAULT_MAX_BUNDLE_BYTES, allow_older: bool = False) -> ImportResult:
    """Store the bundle's entries. An entry created before the one the cache holds for its key is skipped unless
    ``allow_older``: a validly signed but older export replayed would otherwise roll the cache back. ``created`` is
    covered by the export key's signature, so only the holder of that key can make an entry look newer."""
    entries = read_bundle(path, trusted_key_file, max_bytes)
    fresh, older = [], 0
    for entry in entries:
        held = cache.get(entry.key)
        if held == entry:
            continue  # re-putting the same changes nothing
        if held is not None and entry.created < held.created and not allow_older:
            older += 1
            continue
        fresh.append(entry)
    replaced = cache.put_many(fresh).replaced if fresh else 0
    return ImportResult(len(fresh) - replaced, replaced, len(entries) - len(fresh) - older, older)
