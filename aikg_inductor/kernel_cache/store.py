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
from typing import Any, Iterator

import diskcache

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_FINGERPRINT = "__fingerprint__"
_MODULUS = 2**256
_SECRET_BYTES = 32


class CacheUnavailableError(RuntimeError):
    """The cache directory cannot be opened or written; the message says why."""


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

    def payload(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True).encode()

    @classmethod
    def from_payload(cls, raw: bytes) -> CacheEntry:
        data = json.loads(raw)
        return cls(**{**data, "origins": tuple(data["origins"])})


def _entry_hash(key: str, signature: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{key}:{signature}".encode()).digest(), "big")


class KernelCache:
    """Accepted kernels by exact task key.

    ``fingerprint()`` names the accepted set: it changes exactly when an entry is added, replaced or removed, and
    is the same in every process that opens the same directory.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._secret = _load_or_create_secret(self.directory / "secret.key")
            self._db = diskcache.Cache(str(self.directory / "kernels"))
        except Exception as err:  # noqa: BLE001 - OSError, sqlite errors: all mean the cache cannot be used
            raise CacheUnavailableError(f"cannot open the kernel cache at {self.directory}: {err}") from None
        self._warned: set[str] = set()

    # ----------------------------------------------------------------------------------------- reading

    def get(self, key: str) -> CacheEntry | None:
        record = self._db.get(key)
        if record is None:
            return None
        entry = self._check(key, record)
        return entry

    def keys(self) -> Iterator[str]:
        return (k for k in self._db.iterkeys() if k != _FINGERPRINT)

    def entries(self) -> Iterator[CacheEntry]:
        for key in self.keys():
            entry = self.get(key)
            if entry is not None:
                yield entry

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def fingerprint(self) -> str:
        value = self._db.get(_FINGERPRINT, 0)
        return f"{value:064x}"[:32]

    # ----------------------------------------------------------------------------------------- writing

    def put(self, entry: CacheEntry) -> None:
        payload = entry.payload()
        signature = self._sign(payload)
        try:
            with self._db.transact():
                old = self._db.get(entry.key)
                total = self._db.get(_FINGERPRINT, 0)
                if old is not None:
                    total -= _entry_hash(entry.key, old["signature"])
                total += _entry_hash(entry.key, signature)
                self._db.set(entry.key, {"payload": payload, "signature": signature})
                self._db.set(_FINGERPRINT, total % _MODULUS)
        except Exception as err:  # noqa: BLE001 - disk full, read-only: the caller keeps Inductor's kernel
            raise CacheUnavailableError(f"cannot write to the kernel cache at {self.directory}: {err}") from None

    def remove(self, key: str) -> bool:
        with self._db.transact():
            old = self._db.get(key)
            if old is None:
                return False
            total = self._db.get(_FINGERPRINT, 0) - _entry_hash(key, old["signature"])
            self._db.delete(key)
            self._db.set(_FINGERPRINT, total % _MODULUS)
        return True

    def close(self) -> None:
        self._db.close()

    # ----------------------------------------------------------------------------------------- signing

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()

    def _check(self, key: str, record: Any) -> CacheEntry | None:
        try:
            payload, signature = record["payload"], record["signature"]
            if not hmac.compare_digest(self._sign(payload), signature):
                raise ValueError("signature does not match (entry modified outside aikg?)")
            entry = CacheEntry.from_payload(payload)
            if entry.schema != SCHEMA_VERSION:
                raise ValueError(f"schema {entry.schema}, this aikg reads {SCHEMA_VERSION}")
            if entry.key != key:
                raise ValueError("entry is filed under another key")
            return entry
        except Exception as err:  # noqa: BLE001 - anything wrong with an entry makes it inert
            if key not in self._warned:
                self._warned.add(key)
                log.warning("aikg: ignoring cache entry %s: %s", key[:12], err)
            return None


def _load_or_create_secret(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process may have created the file a moment ago and not written it yet.
        for _ in range(100):
            secret = path.read_bytes()
            if len(secret) == _SECRET_BYTES:
                return secret
            time.sleep(0.01)
        raise CacheUnavailableError(f"the cache secret {path} is damaged; remove it to start a new cache")
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(_SECRET_BYTES))
    return path.read_bytes()
