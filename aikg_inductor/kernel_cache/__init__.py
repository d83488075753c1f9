"""Accepted kernels: the signed on-disk store (exact key), the similarity index, and bundles between caches."""

from .bundle import DEFAULT_MAX_BUNDLE_BYTES, BundleError, ImportResult, export_bundle, import_bundle, read_bundle
from .features import Embedder, HashingEmbedder, SentenceEmbedder, entry_features, task_features
from .index import HNSW_THRESHOLD, KernelIndex
from .keys import MIN_TRUSTED_KEY_BYTES
from .records import CacheEntry, Provenance, RecordError, Verification
from .safe_disk import ReadOnlyDiskcache
from .store import (
    CacheUnavailableError,
    Finding,
    KernelCache,
    Platform,
    PutResult,
)

__all__ = [
    "DEFAULT_MAX_BUNDLE_BYTES",
    "HNSW_THRESHOLD",
    "MIN_TRUSTED_KEY_BYTES",
    "BundleError",
    "CacheEntry",
    "CacheUnavailableError",
    "Embedder",
    "Finding",
    "HashingEmbedder",
    "ImportResult",
    "KernelCache",
    "KernelIndex",
    "Platform",
    "Provenance",
    "PutResult",
    "ReadOnlyDiskcache",
    "RecordError",
    "SentenceEmbedder",
    "Verification",
    "entry_features",
    "export_bundle",
    "import_bundle",
    "read_bundle",
    "task_features",
]
