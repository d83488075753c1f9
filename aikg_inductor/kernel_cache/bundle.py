"""Export and import of accepted kernels between caches, as one signed JSON file.

A bundle is signed with HMAC under an export key (``export.key`` in the exporting cache, mode 0600), not the
cache's own secret: handing the export key to another machine lets it trust bundles from this cache without being
able to forge entries inside it. The importer names the key it trusts; entries from a bundle that does not verify
under it are never stored. Each entry is re-signed with the importing cache's secret.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from pathlib import Path

from .store import SCHEMA_VERSION, CacheEntry, KernelCache, load_or_create_secret

BUNDLE_FORMAT = "aikg-kernel-bundle"
BUNDLE_VERSION = 1
EXPORT_KEY = "export.key"


class BundleError(ValueError):
    """A bundle that cannot be read, or is not signed by the trusted key; the message says which."""


@dataclasses.dataclass(frozen=True)
class ImportResult:
    added: int
    replaced: int
    unchanged: int


def _body_signature(key: bytes, entries: list[str]) -> str:
    body = json.dumps([BUNDLE_FORMAT, BUNDLE_VERSION, entries]).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def default_export_key(cache: KernelCache) -> Path:
    return cache.directory / EXPORT_KEY


def export_bundle(cache: KernelCache, path: Path, key_file: Path | None = None) -> int:
    """Write every valid entry of ``cache`` to ``path``, signed with ``key_file`` (default: the cache's export
    key, created on first use). Returns the number of entries written."""
    key = load_or_create_secret(key_file or default_export_key(cache))
    entries = sorted((e.payload().decode() for e in cache.entries()))
    bundle = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "entries": entries,
              "signature": _body_signature(key, entries)}
    path.write_text(json.dumps(bundle))
    return len(entries)


def read_bundle(path: Path, trusted_key_file: Path) -> list[CacheEntry]:
    """The entries of the bundle at ``path`` if it is signed by ``trusted_key_file``; BundleError otherwise."""
    try:
        key = trusted_key_file.read_bytes()
    except OSError as err:
        raise BundleError(f"cannot read the trusted key {trusted_key_file}: {err.strerror}") from None
    try:
        bundle = json.loads(path.read_text())
    except OSError as err:
        raise BundleError(f"cannot read the bundle {path}: {err.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"{path} is not an aikg kernel bundle (not valid JSON; truncated?)") from None
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path} is not an aikg kernel bundle")
    if bundle.get("version") != BUNDLE_VERSION:
        raise BundleError(f"{path} is bundle version {bundle.get('version')}; this aikg reads {BUNDLE_VERSION}")
    entries = bundle.get("entries")
    signature = bundle.get("signature")
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries) or not isinstance(signature, str):
        raise BundleError(f"{path} is a damaged aikg kernel bundle")
    if not hmac.compare_digest(_body_signature(key, entries), signature):
        raise BundleError(f"{path} is not signed by the trusted key {trusted_key_file} (or was modified)")
    try:
        parsed = [CacheEntry.from_payload(e.encode()) for e in entries]
    except (ValueError, TypeError, KeyError) as err:
        raise BundleError(f"{path} holds an entry this aikg cannot read: {err}") from None
    if any(e.schema != SCHEMA_VERSION for e in parsed):
        raise BundleError(f"{path} holds entries of another schema; this aikg reads schema {SCHEMA_VERSION}")
    return parsed


def import_bundle(cache: KernelCache, path: Path, trusted_key_file: Path) -> ImportResult:
    added = replaced = unchanged = 0
    for entry in read_bundle(path, trusted_key_file):
        if cache.get(entry.key) == entry:
            unchanged += 1  # re-putting would change nothing but cost a write
            continue
        if cache.put(entry).replaced:
            replaced += 1
        else:
            added += 1
    return ImportResult(added, replaced, unchanged)
