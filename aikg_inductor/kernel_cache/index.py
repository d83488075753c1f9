"""Nearest accepted kernels for a task: FAISS over entry feature vectors, one index per (device, arch, DSL).

The index is derived data. It is saved beside the store in one signed file, replaced atomically, and rebuilt from
the store whenever it is missing, unreadable, signed by another secret or built for another revision; a broken
index costs a rebuild, never a wrong kernel, because every hit is read back through ``KernelCache.get``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import secrets
from typing import Iterator, NamedTuple

import faiss
import numpy as np

from ..task import KernelTask
from .features import Embedder, HashingEmbedder, describe, entry_features, task_features
from .store import CacheEntry, KernelCache, PutResult

log = logging.getLogger(__name__)

# Exact search costs ~0.09 ms per 1,000 vectors on a busy 2-core CPU (benchmarks/results/cache_lookup_cpu.md), so
# past 50k it would eat most of the 10 ms budget of similar(); HNSW answers 100k in under 1 ms at a little recall.
HNSW_THRESHOLD = 50_000
_HNSW_NEIGHBOURS = 32
_HNSW_EF_SEARCH = 128
_MAGIC = b"AIKGIDX1"
_SIG_HEX = 64
_FORMAT = 2  # 2: keyed on the store's revision
_SEARCH_SLACK = 8  # extra neighbours fetched so that a few refused entries still leave k answers


class GroupKey(NamedTuple):
    device_type: str
    arch: str
    dsl: str


@dataclasses.dataclass
class _Group:
    keys: list[str]
    index: faiss.Index


class IndexCorruptError(ValueError):
    """The saved index cannot be used; it is rebuilt."""


class KernelIndex:
    """``similar(task, k)`` over the accepted kernels of ``cache``; ``put`` stores an entry and indexes it."""

    def __init__(
        self, cache: KernelCache, embedder: Embedder | None = None, hnsw_threshold: int = HNSW_THRESHOLD
    ) -> None:
        self.cache = cache
        self.embedder: Embedder = embedder or HashingEmbedder()
        self.hnsw_threshold = hnsw_threshold
        # One file per embedder: processes using different embedders must not keep rebuilding each other's index.
        self.path = cache.directory / f"index-{self.embedder.name}.bin"
        self._groups: dict[GroupKey, _Group] = {}
        self._revision: str | None = None  # revision of the store the in-memory groups were built from

    # ----------------------------------------------------------------------------------------- queries

    def similar(self, task: KernelTask, k: int = 5, sketch: str | None = None) -> list[tuple[CacheEntry, float]]:
        """Up to ``k`` accepted kernels for the same device, arch and DSL, most similar first, with cosine scores."""
        self.refresh()
        group = self._groups.get(GroupKey(task.device_type, task.arch, task.dsl))
        if group is None or k <= 0:
            return []
        features = task_features(task, sketch)
        query = self.embedder.embed_many([(features, describe(features, sketch))])
        with _one_thread():
            scores, ids = group.index.search(query, min(k + _SEARCH_SLACK, group.index.ntotal))
        found = []
        for score, i in zip(scores[0], ids[0]):
            if i < 0:
                continue
            entry = self.cache.get(group.keys[i])
            if entry is not None:
                found.append((entry, float(score)))
                if len(found) == k:
                    break
        return found

    def __len__(self) -> int:
        self.refresh()
        return sum(len(g.keys) for g in self._groups.values())

    # ----------------------------------------------------------------------------------------- updates

    def put(self, entry: CacheEntry) -> PutResult:
        """Store ``entry`` in the cache and index it without a rebuild when nothing else changed the store."""
        self.refresh()
        result = self.cache.put(entry)
        if result.previous_revision != self._revision or result.replaced:
            # Another process wrote meanwhile, or the entry had a vector already: the next query rebuilds.
            self._revision = None
            return result
        vector = self.embedder.embed_many([_embed_input(entry)])
        key = GroupKey(entry.device_type, entry.arch, entry.dsl)
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = _Group([entry.key], self._new_index(vector))
        elif isinstance(group.index, faiss.IndexFlat) and group.index.ntotal + 1 > self.hnsw_threshold:
            group.index = self._new_index(np.vstack([group.index.reconstruct_n(0, group.index.ntotal), vector]))
            group.keys.append(entry.key)
        else:
            group.index.add(vector)
            group.keys.append(entry.key)
        self._revision = result.revision
        self._save()  # accepts are rare (one per tuned kernel), so saving each time keeps other processes current
        return result

    def refresh(self) -> bool:
        """Bring the in-memory index up to the store; True if it had to be rebuilt from the store."""
        current = self.cache.revision()
        if self._revision == current:
            return False
        try:
            revision, groups = self._load()
            if revision == current:
                self._groups, self._revision = groups, revision
                return False
            log.info("aikg: kernel index %s is stale; rebuilding it from the store", self.path.name)
        except FileNotFoundError:
            log.info("aikg: no kernel index at %s; building it from the store", self.path)
        except IndexCorruptError as err:
            log.warning("aikg: kernel index %s is unusable (%s); rebuilding it from the store", self.path, err)
        self.rebuild()
        return True

    def rebuild(self) -> None:
        # Read the revision first: an entry written during the scan makes it differ, so the next query rebuilds
        # again rather than trusting an index that may have missed that entry.
        revision = self.cache.revision()
        by_group: dict[GroupKey, list[CacheEntry]] = {}
        for entry in self.cache.entries():
            by_group.setdefault(GroupKey(entry.device_type, entry.arch, entry.dsl), []).append(entry)
        self._groups = {
            key: _Group([e.key for e in entries], self._new_index(self.embedder.embed_many(
                [_embed_input(e) for e in entries])))
            for key, entries in by_group.items()
        }
        self._revision = revision
        self._save()

    # ----------------------------------------------------------------------------------------- faiss

    def _new_index(self, vectors: np.ndarray) -> faiss.Index:
        if len(vectors) > self.hnsw_threshold:
            index = faiss.IndexHNSWFlat(self.embedder.dim, _HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = _HNSW_EF_SEARCH
        else:
            index = faiss.IndexFlatIP(self.embedder.dim)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return index

    # ----------------------------------------------------------------------------------------- persistence
    # File: magic, HMAC (hex) of the body, body = 8-byte header length, JSON header, serialised faiss indexes.

    def _save(self) -> None:
        if self.cache.read_only:
            return  # served from a read-only folder: the index lives in memory
        header: dict = {"format": _FORMAT, "revision": self._revision, "embedder": self.embedder.name,
                        "dim": self.embedder.dim, "groups": []}
        blobs, offset = [], 0
        for key, group in self._groups.items():
            blob = faiss.serialize_index(group.index).tobytes()
            header["groups"].append({"group": list(key), "keys": group.keys, "offset": offset, "length": len(blob)})
            blobs.append(blob)
            offset += len(blob)
        head = json.dumps(header).encode()
        body = len(head).to_bytes(8, "big") + head + b"".join(blobs)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "wb") as handle:
                handle.write(_MAGIC + self.cache.sign_bytes(body).encode() + body)
            os.replace(tmp, self.path)  # readers see the old file or the new one, never half of one
        except OSError as err:
            tmp.unlink(missing_ok=True)
            log.warning("aikg: cannot save the kernel index to %s (%s); it stays in memory only", self.path, err)

    def _load(self) -> tuple[str, dict[GroupKey, _Group]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as err:
            raise IndexCorruptError(f"cannot read it: {err.strerror}") from None
        if not raw.startswith(_MAGIC):
            raise IndexCorruptError("not an aikg index file")
        signature = raw[len(_MAGIC):len(_MAGIC) + _SIG_HEX].decode("ascii", errors="replace")
        body = raw[len(_MAGIC) + _SIG_HEX:]
        if not self.cache.check_bytes(body, signature):
            raise IndexCorruptError("truncated, modified or signed by another cache's secret")
        try:
            size = int.from_bytes(body[:8], "big")
            header = json.loads(body[8:8 + size])
            blobs = memoryview(body)[8 + size:]
            if header["format"] != _FORMAT or header["embedder"] != self.embedder.name:
                raise IndexCorruptError(f"built by format {header['format']} / embedder {header['embedder']}")
            groups = {}
            for g in header["groups"]:
                blob = np.frombuffer(blobs[g["offset"]:g["offset"] + g["length"]], dtype=np.uint8)
                index = faiss.deserialize_index(blob)
                if index.ntotal != len(g["keys"]) or index.d != self.embedder.dim:
                    raise IndexCorruptError("vector count or width does not match its keys")
                if isinstance(index, faiss.IndexHNSW):
                    index.hnsw.efSearch = _HNSW_EF_SEARCH
                groups[GroupKey(*g["group"])] = _Group(list(g["keys"]), index)
        except IndexCorruptError:
            raise
        except Exception as err:  # noqa: BLE001 - a signed but unreadable file (older aikg, faiss change)
            raise IndexCorruptError(f"cannot parse it: {err}") from None
        return header["revision"], groups


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    # One query gains nothing from OpenMP's fork/join, and on a busy machine (a compile running beside it) the
    # spinning team makes a 0.2 ms search take tens of ms. The setting is per calling thread, so restore it.
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _embed_input(entry: CacheEntry) -> tuple[dict[str, float], str]:
    features = entry_features(entry)
    return features, describe(features, entry.sketch)
