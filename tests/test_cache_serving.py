"""Serving from the kernel cache end to end on CPU: a compile never keeps a kernel whose entry stopped verifying,
even on a warm Inductor graph cache, and a read-only cache serves without writing."""

from __future__ import annotations

import logging

import torch
from torch._dynamo.utils import counters

from aikg_inductor import KernelCache
from cache_entries import accepted_entry
from conftest import double, only_task
from test_core_swap import CPP_TIMES, N, compile_aikg
from test_kernel_cache import _set_read_only, _tree_state, put_row_back, stored_row


def _graph_cache_hits() -> int:
    return counters["inductor"]["fxgraph_cache_hit"]


def test_a_warm_graph_cache_does_not_keep_a_tampered_or_rolled_back_kernel(cache_dir, caplog, restore_torch_configs):
    x = torch.randn(N)
    task = only_task(double, x)
    cache = KernelCache(cache_dir)
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    with torch._inductor.config.patch(fx_graph_cache=True):
        cache.put(accepted_entry(task, CPP_TIMES.format(n=N, factor="3.0")))
        old_row = stored_row(cache_dir, task.key)
        cache.put(accepted_entry(task, CPP_TIMES.format(n=N, factor="4.0")))
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 4)
        hits = _graph_cache_hits()
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 4)
        assert _graph_cache_hits() == hits + 1  # the graph cache is warm: a compile now skips the scheduler

        put_row_back(cache_dir, task.key, old_row)  # validly signed, but older than the one the cache signed last
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 2)  # Inductor's kernel
        assert "rolled back" in caplog.text, [r.getMessage() for r in caplog.records if r.name.startswith("aikg")]

        cache.put(accepted_entry(task, CPP_TIMES.format(n=N, factor="4.0")))
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 4)
        value, mode, filename = stored_row(cache_dir, task.key)
        put_row_back(cache_dir, task.key, (bytes(value).replace(b"4.0f", b"5.0f"), mode, filename))
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 2)
        assert "signature does not match" in caplog.text


def test_mode_cache_serves_from_a_read_only_cache_without_writing(cache_dir, aikg_logs):
    x = torch.randn(N)
    task = only_task(double, x)
    cache = KernelCache(cache_dir)
    cache.put(accepted_entry(task, CPP_TIMES.format(n=N, factor="3.0")))
    cache.close()
    before = _tree_state(cache_dir)
    # chattr +i for root (who ignores permission bits), permission bits otherwise: see _set_read_only.
    _set_read_only(cache_dir, True)
    try:
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 3)
    finally:
        _set_read_only(cache_dir, False)
    assert "replaced from the cache" in aikg_logs.text and "Inductor's kernels only" not in aikg_logs.text
    assert _tree_state(cache_dir) == before
