"""The signed manifest: which record the cache signed last for each key, so that an older one put back is refused.

Why a manifest. Every record is signed, but a signature only says that this cache wrote it once, not that it is the
newest record for its key. Someone with write access to the store could put back an older record (a kernel that a
later, faster or fixed one replaced, or one that ``aikg cache rm`` removed) and its signature would still check. So
every write also goes to ``manifest.json`` beside the store: a global sequence number and, per key, the sequence
number and signature of the last record the cache signed for it (``None`` for a removed key), all signed with the
cache's secret. A record is served only when it is exactly the one the manifest names for its key.

Order of a write, under an exclusive lock on ``manifest.lock``: the new manifest first (replaced atomically), then
the record. A crash between the two leaves the manifest naming a record that is not there: the key's older record
is then refused (costs a re-tune), never served. A reader that finds a record older than the manifest judges it
again once under a shared lock (``settled``), so a write in progress is not mistaken for a rollback.

What this protects against: rows or value files of the store copied back from an older copy, a whole older
database file put back (the manifest is a separate file, newer than it), and a manifest edited or removed (its
signature fails, or it is gone: then no current-schema record is served).

Limit: the manifest is a file in the same directory. An attacker who can write the directory and puts back an older
manifest together with the records of the same moment (the secret need not change) restores a consistent older
cache, and nothing inside the directory can tell; detecting that needs state kept elsewhere (a monotonic counter
outside the directory, a remote log). That is out of scope (README, threat model), as is anyone who can read the
secret (they can sign anything).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Iterator

MANIFEST_FILE = "manifest.json"
LOCK_FILE = "manifest.lock"
_FORMAT = 1
SETTLE_WAIT_S = 5.0  # a lock held longer is not a write in progress (a write takes milliseconds)


class ManifestError(ValueError):
    """The manifest exists but cannot be trusted (unreadable, or its signature fails)."""


# Per key: (sequence number, the record's signature); signature None: the key was removed at that sequence number.
# Kept as JSON gives it (pairs), not as objects: the manifest is rewritten on every put and read by every process.
Listed = tuple[int, "str | None"]


@dataclasses.dataclass(frozen=True)
class Manifest:
    sequence: int
    entries: dict[str, Listed]
    signature: str  # its own signature: names this state of the cache (the index keys on it)
    body: bytes  # what the signature covers, as written to the file

    def judge(self, key: str, signature: str, sequence: int | None) -> str:
        """Why the record of ``key`` with ``signature`` (written at ``sequence``; None for records older than the
        manifest) may not be served; "" if it may."""
        listed = self.entries.get(key)
        if listed is None:
            return "the cache's manifest does not list this key (copied in from elsewhere, or the manifest is older)"
        last, last_signature = listed
        if last_signature is not None and hmac.compare_digest(last_signature, signature):
            return ""
        written = "before sequence numbers" if sequence is None else f"as #{sequence}"
        if last_signature is None and (sequence is None or sequence < last):
            return f"rolled back: the key was removed at #{last}; this record, written {written}, was put back"
        if sequence is None or sequence < last:
            return f"rolled back: this record, written {written}, is older than #{last}, the last the cache signed " \
                   "for this key"
        return f"this record (#{sequence}) is not the one the manifest lists (#{last}): the manifest was put back " \
               "from an older copy"

    def live(self, key: str) -> bool:
        """Whether the manifest names a record (not a removal) for ``key``."""
        listed = self.entries.get(key)
        return listed is not None and listed[1] is not None


def _body(sequence: int, entries: dict[str, Listed]) -> bytes:
    return json.dumps({"format": _FORMAT, "sequence": sequence, "entries": entries}, separators=(",", ":")).encode()


def _signed(secret: bytes, sequence: int, entries: dict[str, Listed]) -> Manifest:
    body = _body(sequence, entries)
    return Manifest(sequence, entries, _sign(secret, body), body)


def _sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, b"manifest:" + body, hashlib.sha256).hexdigest()


# File: the signature (64 hex digits) and a newline, then the body exactly as signed (JSON).
_SIG_HEX = 64


def read_manifest(directory: Path, secret: bytes) -> Manifest | None:
    """The manifest of the cache in ``directory``; None when there is none; ManifestError when it cannot be trusted."""
    try:
        raw = (directory / MANIFEST_FILE).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ManifestError(f"cannot read {MANIFEST_FILE}: {err.strerror}") from None
    signature, body = raw[:_SIG_HEX].decode("ascii", errors="replace"), raw[_SIG_HEX + 1:]
    if not hmac.compare_digest(_sign(secret, body), signature):
        raise ManifestError(f"{MANIFEST_FILE} fails its signature (modified outside aikg?)")
    try:
        data = json.loads(body)
        if data["format"] != _FORMAT:
            raise ManifestError(f"{MANIFEST_FILE} is format {data['format']}; this aikg reads {_FORMAT}")
        entries = data["entries"]
        if not isinstance(entries, dict) or not isinstance(data["sequence"], int):
            raise ValueError("malformed")
        return Manifest(data["sequence"], entries, signature, body)
    except ManifestError:
        raise
    except Exception:  # noqa: BLE001 - signed by this cache but unreadable: another aikg version
        raise ManifestError(f"{MANIFEST_FILE} is damaged") from None


def with_records(manifest: Manifest, changes: list[tuple[str, str | None]], secret: bytes) -> Manifest:
    """``manifest`` with the next sequence numbers given, in order, to the keys of ``changes`` (key, record
    signature; None: removed)."""
    entries = dict(manifest.entries)
    for offset, (key, signature) in enumerate(changes, start=1):
        entries[key] = (manifest.sequence + offset, signature)
    return _signed(secret, manifest.sequence + len(changes), entries)


def empty_manifest(secret: bytes, entries: dict[str, Listed] | None = None) -> Manifest:
    entries = entries or {}
    return _signed(secret, max((sequence for sequence, _ in entries.values()), default=0), entries)


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: readers see the old one or the new one. Not fsynced, like diskcache's own
    commits (sqlite synchronous=NORMAL): a power cut may lose the newest manifest, which refuses entries (they are
    re-tuned), never serves a wrong one."""
    path = directory / MANIFEST_FILE
    tmp = path.with_name(f".{MANIFEST_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(manifest.signature.encode() + b"\n" + manifest.body)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def manifest_stamp(directory: Path) -> tuple[int, int, int] | None:
    """Changes whenever the manifest file is replaced (a new inode each time): when to read it again."""
    try:
        st = (directory / MANIFEST_FILE).stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


@contextlib.contextmanager
def write_lock(directory: Path) -> Iterator[None]:
    """One writer at a time across processes, for the manifest and the record it names."""
    with open(directory / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def settled(directory: Path) -> Iterator[None]:
    """Waits for a write in progress to finish (a shared lock on ``manifest.lock``), at most ``SETTLE_WAIT_S``: a
    lock file held longer (by a stuck or hostile process) must not hang readers, who then judge without it. No lock
    file (a cache never written here, a read-only copy): nothing to wait for."""
    try:
        handle = open(directory / LOCK_FILE, "rb")
    except OSError:
        yield
        return
    with handle:
        deadline = time.monotonic() + SETTLE_WAIT_S
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    yield
                    return
                time.sleep(0.005)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
