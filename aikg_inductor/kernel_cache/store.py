"""The store of accepted kernels: diskcache on disk, every entry signed with HMAC under a per-cache secret.

An entry whose signature or schema does not check out is reported once and never returned: accepted kernels are
code that later processes run without asking, so a tampered entry must be inert.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any, Iterator, Literal

import diskcache

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_FINGERPRINT = "__fingerprint__"
_MODULUS = 2**256
_SECRET_BYTES = 32
_SIG_HEX = 64  # sha256 HMAC in hex
_EMPTY_TOTAL = f"{0:064x}"


class CacheUnavailableError(RuntimeError):
    """The cache directory cannot be opened or written; the message says why."""


class UnsafeRecordError(ValueError):
    """A stored value would need unpickling: only a writer outside aikg can have put it there."""


@dataclasses.dataclass(frozen=True)
class CacheEntry:
    """One accepted kernel and why it was accepted."""

    key: str
    source: str  # normalised, as KernelTask.source: the kernel name is the placeholder
    dsl: str
    device_type: str
    arch: str
    torch_version: str
    triton_version: str | None
    origins: tuple[str, ...]
    verification: dict[str, Any]  # the verifier's report: seeds, sizes, errors, tolerances, timings, card
    provenance: dict[str, Any]  # proposer, model, prompt hash
    created: float = dataclasses.field(default_factory=time.time)
    schema: int = SCHEMA_VERSION
    # Retrieval: feature tokens of the task (features.task_features) and the Designer's sketch; both optional so
    # that the index can still place an entry stored without them (by its origins).
    features: dict[str, float] = dataclasses.field(default_factory=dict)
    sketch: str | None = None

    def payload(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True).encode()

    @classmethod
    def from_payload(cls, raw: bytes) -> CacheEntry:
        data = json.loads(raw)
        return cls(**{**data, "origins": tuple(data["origins"])})


@dataclasses.dataclass(frozen=True)
class PutResult:
    """What one ``put`` did to the accepted set, read inside the write transaction (so exact under concurrency)."""

    previous_fingerprint: str
    fingerprint: str
    replaced: bool


@dataclasses.dataclass(frozen=True)
class Platform:
    """The compiler stack and hardware an entry must match to be of use here (``verify`` reports mismatches)."""

    torch_version: str
    triton_version: str | None
    arch_by_device: dict[str, str]  # device type -> arch; a device type missing here is not judged on arch


@dataclasses.dataclass(frozen=True)
class Finding:
    key: str
    status: Literal["tampered", "stale"]
    reason: str


class _SafeDisk(diskcache.Disk):
    """diskcache's serialiser minus pickle: the database is a file anyone with write access can edit, and
    unpickling its bytes would run their code before the signature is even checked."""

    def get(self, key: Any, raw: bool) -> Any:
        # aikg writes str keys only; a pickled one comes back as its raw bytes, which no lookup by str can match.
        return super().get(key, raw) if raw else bytes(key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == diskcache.core.MODE_PICKLE:
            raise UnsafeRecordError("pickled value")
        return super().fetch(mode, filename, value, read)


def _entry_hash(key: str, signature: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{key}:{signature}".encode()).digest(), "big")


def _split(record: Any) -> tuple[str, bytes]:
    if not isinstance(record, bytes) or len(record) <= _SIG_HEX or record[_SIG_HEX:_SIG_HEX + 1] != b":":
        raise ValueError("record is not <signature>:<payload>")
    return record[:_SIG_HEX].decode("ascii", errors="replace"), record[_SIG_HEX + 1:]


class KernelCache:
    """Accepted kernels by exact task key.

    ``fingerprint()`` names the accepted set: it changes exactly when an entry is added, replaced or removed, and
    is the same in every process that opens the same directory.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._secret = load_or_create_secret(self.directory / "secret.key")
            # No eviction: an entry dropped behind our back would leave the fingerprint naming a set we lost.
            self._db = diskcache.Cache(str(self.directory / "kernels"), disk=_SafeDisk, eviction_policy="none")
        except CacheUnavailableError:
            raise
        except Exception as err:  # noqa: BLE001 - OSError, sqlite errors: all mean the cache cannot be used
            raise CacheUnavailableError(f"cannot open the kernel cache at {self.directory}: {err}") from None
        self._warned: set[str] = set()

    # ----------------------------------------------------------------------------------------- reading

    def get(self, key: str) -> CacheEntry | None:
        try:
            record = self._db.get(key)
        except UnsafeRecordError as err:
            self._warn(key, str(err))
            return None
        if record is None:
            return None
        entry, reason = self._check(key, record)
        if entry is None:
            self._warn(key, reason)
        return entry

    def keys(self) -> Iterator[str]:
        for key in self._db.iterkeys():
            if isinstance(key, str) and key != _FINGERPRINT:
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
        except UnsafeRecordError:
            return 0
        return len(record) if isinstance(record, bytes) else 0

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def fingerprint(self) -> str:
        return self._total()[:32]

    def volume(self) -> int:
        """Bytes the store takes on disk (database and value files)."""
        return int(self._db.volume())

    def verify_all(self, platform: Platform | None = None) -> list[Finding]:
        """Every entry that ``get`` would refuse (tampered) or that cannot serve ``platform`` (stale)."""
        findings = [
            Finding(repr(key)[:40], "tampered", "key not written by aikg")
            for key in self._db.iterkeys()
            if not isinstance(key, str)
        ]
        for key in self.keys():
            try:
                record = self._db.get(key)
            except UnsafeRecordError as err:
                findings.append(Finding(key, "tampered", str(err)))
                continue
            entry, reason = self._check(key, record)
            if entry is None:
                findings.append(Finding(key, "tampered", reason))
            elif platform is not None:
                stale = _staleness(entry, platform)
                if stale:
                    findings.append(Finding(key, "stale", stale))
        return findings

    # ----------------------------------------------------------------------------------------- writing

    def put(self, entry: CacheEntry) -> PutResult:
        payload = entry.payload()
        signature = self._sign(payload)
        try:
            with self._db.transact():
                previous = self._total()
                total = int(previous, 16)
                old_signature = self._stored_signature(entry.key)
                if old_signature is not None:
                    total -= _entry_hash(entry.key, old_signature)
                total += _entry_hash(entry.key, signature)
                current = f"{total % _MODULUS:064x}"
                self._db.set(entry.key, signature.encode() + b":" + payload)
                self._db.set(_FINGERPRINT, current)
        except Exception as err:  # noqa: BLE001 - disk full, read-only: the caller keeps Inductor's kernel
            raise CacheUnavailableError(f"cannot write to the kernel cache at {self.directory}: {err}") from None
        return PutResult(previous[:32], current[:32], old_signature is not None)

    def remove(self, key: str) -> bool:
        try:
            with self._db.transact():
                if key not in self._db:
                    return False
                old_signature = self._stored_signature(key)
                total = int(self._total(), 16)
                if old_signature is not None:
                    total -= _entry_hash(key, old_signature)
                self._db.delete(key)
                self._db.set(_FINGERPRINT, f"{total % _MODULUS:064x}")
        except Exception as err:  # noqa: BLE001 - as in put
            raise CacheUnavailableError(f"cannot write to the kernel cache at {self.directory}: {err}") from None
        return True

    def close(self) -> None:
        self._db.close()

    # ----------------------------------------------------------------------------------------- signing

    def sign_bytes(self, data: bytes) -> str:
        """HMAC of ``data`` under this cache's secret, for files kept beside the store (the index)."""
        return self._sign(data)

    def check_bytes(self, data: bytes, signature: str) -> bool:
        return hmac.compare_digest(self._sign(data), signature)

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()

    def _total(self) -> str:
        value = self._db.get(_FINGERPRINT, _EMPTY_TOTAL)
        if not isinstance(value, str) or len(value) != 64:
            # Only an outside edit gets here; a wrong fingerprint costs Inductor cache misses, never a bad kernel.
            log.warning("aikg: the cache fingerprint in %s is damaged; starting it from zero", self.directory)
            return _EMPTY_TOTAL
        return value

    def _stored_signature(self, key: str) -> str | None:
        # The fingerprint counts what was signed, valid or not, so removing a tampered entry keeps it consistent.
        try:
            return _split(self._db.get(key))[0]
        except (UnsafeRecordError, ValueError):
            return None

    def _check(self, key: str, record: Any) -> tuple[CacheEntry | None, str]:
        try:
            signature, payload = _split(record)
            if not hmac.compare_digest(self._sign(payload), signature):
                raise ValueError("signature does not match (entry modified outside aikg?)")
            entry = CacheEntry.from_payload(payload)
            if entry.schema != SCHEMA_VERSION:
                raise ValueError(f"schema {entry.schema}, this aikg reads {SCHEMA_VERSION}")
            if entry.key != key:
                raise ValueError("entry is filed under another key")
            return entry, ""
        except Exception as err:  # noqa: BLE001 - anything wrong with an entry makes it inert
            return None, str(err)

    def _warn(self, key: str, reason: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("aikg: ignoring cache entry %s: %s", key[:12], reason)


def _staleness(entry: CacheEntry, platform: Platform) -> str:
    if entry.torch_version != platform.torch_version:
        return f"built for torch {entry.torch_version}, this is {platform.torch_version}"
    if entry.triton_version is not None and entry.triton_version != platform.triton_version:
        return f"built for triton {entry.triton_version}, this has {platform.triton_version or 'none'}"
    here = platform.arch_by_device.get(entry.device_type)
    if here is not None and here != entry.arch:
        return f"built for {entry.device_type} {entry.arch}, this machine is {here}"
    return ""


def load_or_create_secret(path: Path) -> bytes:
    """A 32-byte key in ``path`` (mode 0600), created on first use; safe when several processes race to create it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process may have created the file a moment ago and not written it yet.
        for _ in range(100):
            secret = path.read_bytes()
            if len(secret) == _SECRET_BYTES:
                return secret
            time.sleep(0.01)
        raise CacheUnavailableError(f"the key file {path} is damaged; remove it to start a new one") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(_SECRET_BYTES))
    return path.read_bytes()
