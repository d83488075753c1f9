"""Accepted kernels: the signed on-disk store (exact key), the similarity index, and bundles between caches."""

from .bundle import BundleError, ImportResult, export_bundle, import_bundle, read_bundle
from .features import Embedder, HashingEmbedder, SentenceEmbedder, entry_features, task_features
from .index import HNSW_THRESHOLD, KernelIndex
from .store import (
    CacheEntry,
    CacheUnavailableError,
    Finding,
    KernelCache,
    Platform,
    PutResult,
)

__all__ = [
    "HNSW_THRESHOLD",
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
    "PutResult",
    "SentenceEmbedder",
    "entry_features",
    "export_bundle",
    "import_bundle",
    "read_bundle",
    "task_features",
]
