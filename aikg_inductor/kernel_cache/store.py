"""The store of accepted kernels: diskcache on disk, every record signed with HMAC under a per-cache secret.

A record whose signature or schema does not check out, or that is not the one the cache signed last for its key
(see ``manifest``: rollback), is reported once and never returned: accepted kernels are code that later processes
run without asking, so a tampered or rolled-back entry must be inert.

A cache in a directory this process cannot write (a read-only mount, a container image) is opened read-only:
lookups, the fingerprint, ``verify`` and listing work without writing anything; writes raise
``CacheUnavailableError``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Sequence

from .keys import KeyFileError, load_or_create_key
from .manifest import (
    MANIFEST_FILE,
    Listed,
    Manifest,
    ManifestError,
    empty_manifest,
    manifest_stamp,
    read_manifest,
    settled,
    with_records,
    write_lock,
    write_manifest,
)
from .records import LEGACY_SCHEMA, SCHEMA_VERSION, CacheEntry, RecordError
from .safe_disk import CacheUnavailableError, ReadOnlyDiskcache, UnsafeRecordError, open_safe_diskcache

log = logging.getLogger(__name__)

_SIG_HEX = 64  # sha256 HMAC in hex
_EMPTY_SET = "0" * 32
SECRET_FILE = "secret.key"
STORE_FOLDER = "kernels"


@dataclasses.dataclass(frozen=True)
class PutResult:
    """What one ``put`` did, read under the write lock (so exact under concurrency). Revisions name states of the
    manifest: equal revisions mean no write happened in between."""

    previous_revision: str
    revision: str
    replaced: int  # how many of the written keys held an entry before (0 or 1 for one put)


@dataclasses.dataclass(frozen=True)
class Platform:
    """The compiler stack and hardware an entry must match to be of use here (``verify`` reports mismatches)."""

    torch_version: str
    triton_version: str | None
    arch_by_device: dict[str, str]  # device type -> arch; a device type missing here is not judged on arch


FindingStatus = Literal["tampered", "rolled-back", "stale"]


@dataclasses.dataclass(frozen=True)
class Finding:
    key: str
    status: FindingStatus
    reason: str


def _entry_set_hash(valid: list[tuple[str, str]]) -> str:
    """The fingerprint of a set of (key, record signature) pairs."""
    if not valid:
        return _EMPTY_SET
    digest = hashlib.sha256()
    for key, signature in sorted(valid):
        digest.update(f"{key}:{signature}\n".encode())
    return digest.hexdigest()[:32]


def _split(record: Any) -> tuple[str, bytes]:
    if not isinstance(record, bytes) or len(record) <= _SIG_HEX or record[_SIG_HEX:_SIG_HEX + 1] != b":":
        raise RecordError("record is not <signature>:<payload>")
    return record[:_SIG_HEX].decode("ascii", errors="replace"), record[_SIG_HEX + 1:]


def _record_payload(entry: CacheEntry, sequence: int) -> bytes:
    """What is signed and stored: the entry and the sequence number the manifest gives it."""
    return json.dumps({"entry": entry.to_json(), "sequence": sequence}, sort_keys=True).encode()


def _parse_record_payload(payload: bytes) -> tuple[CacheEntry, int | None]:
    """The entry and its sequence number (None for a schema-1 record, written before sequence numbers)."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise RecordError("not JSON") from None
    if isinstance(data, dict) and data.get("schema") == LEGACY_SCHEMA:
        return CacheEntry.from_json(data), None
    if not isinstance(data, dict) or set(data) != {"entry", "sequence"} or not isinstance(data["sequence"], int):
        raise RecordError(f"not a schema-{SCHEMA_VERSION} record")
    return CacheEntry.from_json(data["entry"]), data["sequence"]


@dataclasses.dataclass(frozen=True)
class _Change:
    """A write planned against the manifest as it was: the new manifest, the store operation, and whether the key
    held an entry before."""

    manifest: Manifest
    store: Callable[[], Any]
    replaced: int


@dataclasses.dataclass(frozen=True)
class _Verdict:
    entry: CacheEntry | None
    signature: str
    status: FindingStatus | None  # None: served
    reason: str


class KernelCache:
    """Accepted kernels by exact task key.

    ``fingerprint()`` names the set of entries that verify (signature, schema and manifest): it changes when an
    entry is added, replaced or removed, and also when one is tampered with or rolled back behind the cache's back,
    and is the same in every process that opens the same directory. It reads every record, so it is taken once per
    compile, not per lookup.
    """

    def __init__(self, directory: Path | str, read_only: bool | None = None) -> None:
        """``read_only``: None opens read-only exactly when the directory cannot be written."""
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise CacheUnavailableError(f"cannot open the kernel cache at {self.directory}: it is a file, not a folder")
        self.read_only = not _writable(self.directory) if read_only is None else read_only
        try:
            secret = self.directory / SECRET_FILE
            if not os.path.lexists(secret) and self._holds_entries():
                raise CacheUnavailableError(f"{secret} is missing, so the entries this cache holds cannot be "
                                            "verified and none is served; put secret.key back, or move the folder "
                                            "away to start a new cache")
            if self.read_only and not os.path.lexists(secret):
                raise CacheUnavailableError("there is no cache there, and this process cannot create one (read-only)")
            if not self.read_only:
                self.directory.mkdir(parents=True, exist_ok=True)
            self._secret = load_or_create_key(secret, create=not self.read_only, private=True)
            self._db = self._open_records()
        except (CacheUnavailableError, KeyFileError) as err:
            raise CacheUnavailableError(f"cannot open the kernel cache at {self.directory}: {err}") from None
        except Exception as err:  # noqa: BLE001 - OSError, sqlite errors: all mean the cache cannot be used
            raise CacheUnavailableError(f"cannot open the kernel cache at {self.directory}: {err}") from None
        self._warned: set[str] = set()
        self._manifest_at: tuple[tuple[int, int, int] | None, Manifest | None, str] | None = None
        self._legacy_only: bool | None = None
        self._writing = False  # holding the write lock

    def _holds_entries(self) -> bool:
        """Whether aikg has written here (a manifest, or any row in the store): a secret made now could not verify
        those entries, and creating one would only hide that they are lost."""
        if (self.directory / MANIFEST_FILE).exists():
            return True
        try:
            store = ReadOnlyDiskcache(self.directory / STORE_FOLDER)
        except CacheUnavailableError:  # no database, or not one: nothing signed to lose
            return False
        try:
            return any(True for _ in store.iterkeys())
        finally:
            store.close()

    def _open_records(self) -> Any:
        folder = self.directory / STORE_FOLDER
        if self.read_only:
            return ReadOnlyDiskcache(folder)
        # No eviction: an entry dropped behind our back would be lost without a trace in the manifest.
        return open_safe_diskcache(folder, eviction_policy="none")

    # ----------------------------------------------------------------------------------------- reading

    def get(self, key: str) -> CacheEntry | None:
        verdict = self._judge(key)
        if verdict is None:
            return None
        if verdict.entry is None:
            self._warn(key, verdict.reason)
        return verdict.entry

    def refusal(self, key: str) -> Finding | None:
        """Why ``get(key)`` serves nothing although a record is there (tampered, rolled back); None otherwise."""
        verdict = self._judge(key)
        return None if verdict is None or verdict.status is None else Finding(key, verdict.status, verdict.reason)

    def keys(self) -> Iterator[str]:
        for key in self._db.iterkeys():
            if isinstance(key, str):
                yield key

    def entries(self) -> Iterator[CacheEntry]:
        for key in self.keys():
            entry = self.get(key)
            if entry is not None:
                yield entry

    def record_size(self, key: str) -> int:
        """Bytes the stored record takes (payload and signature), 0 if absent or unreadable."""
        try:
            record = self._db.get(key)
        except Exception:  # noqa: BLE001 - a tampered row: verify reports it; it takes no record bytes here
            return 0
        return len(record) if isinstance(record, bytes) else 0

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def fingerprint(self) -> str:
        """The set of entries ``get`` would return, as 32 hex digits (the same in every process). Warns (once per
        key) about each entry it leaves out: on a warm graph cache no ``get`` may ever run to say so."""
        valid = []
        for key in self.keys():
            verdict = self._judge(key)
            if verdict is not None and verdict.entry is not None:
                valid.append((key, verdict.signature))
            elif verdict is not None:
                self._warn(key, verdict.reason)
        return _entry_set_hash(valid)

    def revision(self) -> str:
        """Names the last write (cheap: one stat): what the index keys on. It does not see edits made outside aikg;
        whatever reads through ``get`` is judged afresh anyway."""
        return self._manifest()[2]

    def volume(self) -> int:
        """Bytes the store takes on disk (database and value files)."""
        return int(self._db.volume())

    def verify_all(self, platform: Platform | None = None) -> list[Finding]:
        """Every entry that ``get`` would refuse (tampered, rolled back) or that cannot serve ``platform`` (stale)."""
        findings = [
            Finding(repr(key)[:40], "tampered", "key not written by aikg")
            for key in self._db.iterkeys()
            if not isinstance(key, str)
        ]
        for key in self.keys():
            verdict = self._judge(key)
            if verdict is None:
                continue
            if verdict.status is not None:
                findings.append(Finding(key, verdict.status, verdict.reason))
            elif platform is not None and verdict.entry is not None:
                stale = _staleness(verdict.entry, platform)
                if stale:
                    findings.append(Finding(key, "stale", stale))
        return findings

    # ----------------------------------------------------------------------------------------- writing

    def put(self, entry: CacheEntry) -> PutResult:
        """Store ``entry`` under its key, replacing any earlier record; raises CacheUnavailableError if it cannot."""
        return self.put_many([entry])

    def put_many(self, entries: Sequence[CacheEntry]) -> PutResult:
        """Store ``entries`` in one write (one manifest update: what an import of many entries needs);
        ``replaced`` counts those whose key held an entry."""
        def change(manifest: Manifest) -> _Change:
            records = {}
            for sequence, entry in enumerate(entries, start=manifest.sequence + 1):
                payload = _record_payload(entry, sequence)
                records[entry.key] = self._sign(payload).encode() + b":" + payload
            # Entries under one key: the last wins, as it would in a loop of puts.
            changes = [(entry.key, records[entry.key][:_SIG_HEX].decode()) for entry in entries]

            def store() -> None:
                for key, record in records.items():
                    self._db.set(key, record)

            return _Change(with_records(manifest, changes, self._secret), store,
                           sum(manifest.live(key) for key in records))

        return self._write(change)

    def remove(self, key: str) -> bool:
        """Remove ``key``; the manifest remembers the removal, so an older copy of it put back is refused."""
        def change(manifest: Manifest) -> _Change:
            present = key in self._db or manifest.live(key)
            return _Change(with_records(manifest, [(key, None)], self._secret), lambda: self._db.delete(key),
                           int(present))

        return self._write(change).replaced > 0

    def close(self) -> None:
        self._db.close()

    def _write(self, change: Callable[[Manifest], _Change]) -> PutResult:
        if self.read_only:
            raise CacheUnavailableError(f"the kernel cache at {self.directory} is read-only (a folder this process "
                                        "cannot write); nothing was written")
        try:
            with write_lock(self.directory):
                self._writing = True
                before = self._manifest_for_write()
                planned = change(before)
                write_manifest(self.directory, planned.manifest)  # first: a crash before the record refuses it
                try:
                    with self._db.transact():
                        planned.store()
                except BaseException:
                    write_manifest(self.directory, before)
                    raise
                self._manifest_at = (manifest_stamp(self.directory), planned.manifest,
                                     planned.manifest.signature[:32])
        except Exception as err:  # noqa: BLE001 - disk full, read-only: the caller keeps Inductor's kernel
            raise CacheUnavailableError(f"cannot write to the kernel cache at {self.directory}: {err}") from None
        finally:
            self._writing = False
            self._legacy_only = None
        return PutResult(before.signature[:32], planned.manifest.signature[:32], planned.replaced)

    def _manifest_for_write(self) -> Manifest:
        """The manifest as it is on disk now (under the lock). A cache written by aikg before manifests existed
        gets one listing its valid records; a missing or broken manifest is started afresh (with a warning): the
        records it listed stay refused."""
        stamp, manifest, error = self._manifest()  # read again only if another process replaced it
        if manifest is not None:
            return manifest
        if stamp is not None:
            log.warning("aikg: %s in %s; starting a new one (its entries stay refused)", error, self.directory)
            return empty_manifest(self._secret)
        if self._store_is_legacy_only():
            return empty_manifest(self._secret, self._adopt_legacy())
        if any(True for _ in self.keys()):
            log.warning("aikg: the manifest of %s is missing; starting a new one (its entries stay refused)",
                        self.directory)
        return empty_manifest(self._secret)

    def _adopt_legacy(self) -> dict[str, Listed]:
        adopted = {}
        for key in self.keys():
            verdict = self._judge(key)
            if verdict is not None and verdict.entry is not None:
                adopted[key] = (1, verdict.signature)
        return adopted

    # ----------------------------------------------------------------------------------------- signing

    def sign_bytes(self, data: bytes) -> str:
        """HMAC of ``data`` under this cache's secret, for files kept beside the store (the index)."""
        return self._sign(data)

    def check_bytes(self, data: bytes, signature: str) -> bool:
        return hmac.compare_digest(self._sign(data), signature)

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()

    # ----------------------------------------------------------------------------------------- judging

    def _judge(self, key: str) -> _Verdict | None:
        """None when there is no record under ``key``; else whether it may be served and why not. A record older
        than the manifest is judged again once another process's write has finished: a writer replaces the manifest
        before the record, and in between the new record is not there yet."""
        verdict = self._judge_now(key)
        if verdict is None or verdict.status != "rolled-back" or self._writing:
            return verdict  # under our own write lock a shared one would wait for ourselves
        with settled(self.directory):
            return self._judge_now(key)

    def _judge_now(self, key: str) -> _Verdict | None:
        try:
            record = self._db.get(key)
        except UnsafeRecordError as err:
            return _Verdict(None, "", "tampered", str(err))
        except OSError as err:  # a value file missing or unreadable
            return _Verdict(None, "", "tampered", f"cannot read its value file: {err.strerror}")
        except Exception as err:  # noqa: BLE001 - any other row sqlite holds but diskcache cannot decode
            return _Verdict(None, "", "tampered", f"its row cannot be read ({type(err).__name__}: {err})")
        if record is None:
            return None
        try:
            signature, payload = _split(record)
            if not hmac.compare_digest(self._sign(payload), signature):
                raise RecordError("signature does not match (entry modified outside aikg?)")
            entry, sequence = _parse_record_payload(payload)
            if entry.key != key:
                raise RecordError("entry is filed under another key")
        except RecordError as err:
            return _Verdict(None, "", "tampered", str(err))
        return self._against_manifest(entry, key, signature, sequence)

    def _against_manifest(self, entry: CacheEntry, key: str, signature: str, sequence: int | None) -> _Verdict:
        """A validly signed record is served only if it is the one the manifest names for its key."""
        stamp, manifest, error = self._manifest()
        if manifest is None and stamp is not None:
            return _Verdict(None, signature, "tampered", f"the cache's {error}")
        if manifest is None:
            if sequence is None and self._store_is_legacy_only():
                return _Verdict(entry, signature, None, "")  # written before manifests: it stands on its signature
            return _Verdict(None, signature, "rolled-back", "the cache's manifest.json is missing, so this record "
                            "cannot be shown to be the latest for its key")
        reason = manifest.judge(key, signature, sequence)
        return _Verdict(None, signature, "rolled-back", reason) if reason else _Verdict(entry, signature, None, "")

    def _manifest(self) -> tuple[tuple[int, int, int] | None, Manifest | None, str]:
        """(file stamp, manifest or None, revision or the reason it cannot be trusted), read again only when the
        file was replaced."""
        stamp = manifest_stamp(self.directory)
        if self._manifest_at is not None and self._manifest_at[0] == stamp:
            return self._manifest_at
        try:
            manifest = read_manifest(self.directory, self._secret)
            state = (stamp, manifest, manifest.signature[:32] if manifest else "none")
        except ManifestError as err:
            state = (stamp, None, str(err))
        self._manifest_at = state
        return state

    def _store_is_legacy_only(self) -> bool:
        """No record of the current schema: the store was written by an aikg from before manifests (checked once;
        only aikg of this version writes current-schema records, and it writes a manifest first)."""
        if self._legacy_only is None:
            self._legacy_only = not any(_is_current_schema(self._db, key) for key in self.keys())
        return self._legacy_only

    def _warn(self, key: str, reason: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("aikg: ignoring cache entry %s: %s", key[:12], reason)


def _is_current_schema(db: Any, key: str) -> bool:
    try:
        record = db.get(key)
        return _split(record)[1].startswith(b'{"entry":')
    except Exception:  # noqa: BLE001 - unreadable: _judge reports it as tampered
        return False


def _writable(directory: Path) -> bool:
    """Whether this process may write the cache: the folder (or the nearest one above it that exists) and, if
    present, the store's folder and database. ``os.access`` also answers for root on a read-only mount (EROFS)."""
    if not directory.exists():
        parent = next((p for p in directory.parents if p.exists()), None)
        return parent is not None and os.access(parent, os.W_OK | os.X_OK)
    paths = [directory, directory / STORE_FOLDER, directory / STORE_FOLDER / "cache.db"]
    return all(os.access(p, os.W_OK) for p in paths if p.exists())


def _staleness(entry: CacheEntry, platform: Platform) -> str:
    if entry.torch_version != platform.torch_version:
        return f"built for torch {entry.torch_version}, this is {platform.torch_version}"
    if entry.triton_version is not None and entry.triton_version != platform.triton_version:
        return f"built for triton {entry.triton_version}, this has {platform.triton_version or 'none'}"
    here = platform.arch_by_device.get(entry.device_type)
    if here is not None and here != entry.arch:
        return f"built for {entry.device_type} {entry.arch}, this machine is {here}"
    return ""
