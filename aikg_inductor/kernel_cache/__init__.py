"""Accepted kernels: the signed on-disk store (exact key)."""

from .store import CacheEntry, CacheUnavailableError, KernelCache

__all__ = ["CacheEntry", "CacheUnavailableError", "KernelCache"]
