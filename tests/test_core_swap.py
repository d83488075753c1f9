"""The heart of aikg: Inductor's fused kernels are seen, and a cached kernel replaces Inductor's."""

import logging

import pytest
import torch

from aikg_inductor import CacheEntry, KernelCache, capture
from aikg_inductor.torch_internals import interception
from cache_entries import accepted_entry
from conftest import double, only_task

N = 64

# A hand-written kernel with the signature Inductor gives `x * 2` on a float[64]: (const float*, float*).
CPP_TIMES = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C" void Placeholder.KERNEL_NAME(const float* in_ptr0, float* out_ptr0)
{{
    for (int64_t i = 0; i < {n}; ++i) {{ out_ptr0[i] = in_ptr0[i] * {factor}f; }}
}}
"""


def entry_for(task, source: str) -> CacheEntry:
    return accepted_entry(task, source)  # a hand-written test kernel: its report is a test double


def compile_aikg(fn, cache_dir, mode="cache"):
    torch.compiler.reset()
    return torch.compile(fn, backend="aikg", options={"mode": mode, "cache_dir": str(cache_dir)})


def test_task_describes_the_kernel():
    task = only_task(double, torch.randn(N))
    assert task.dsl == "cpp-cpu" and task.device_type == "cpu"
    assert task.origins == ("aten.mul.Tensor",)
    assert [(a.param, a.role, a.layout.size, a.layout.dtype) for a in task.args] == [
        ("in_ptr0", "in", (N,), "float32"),
        ("out_ptr0", "out", (N,), "float32"),
    ]
    assert "Placeholder.KERNEL_NAME" in task.source
    assert len(task.key) == 64
    # The same kernel in another compile has the same key; another shape has another.
    assert only_task(double, torch.randn(N)).key == task.key
    assert only_task(double, torch.randn(N + 1)).key != task.key


def test_swap_with_a_different_kernel_changes_the_result(cache_dir, aikg_logs):
    x = torch.randn(N)
    task = only_task(double, x)
    KernelCache(cache_dir).put(entry_for(task, CPP_TIMES.format(n=N, factor="3.0")))
    out = compile_aikg(double, cache_dir)(x)
    torch.testing.assert_close(out, x * 3)
    assert "replaced from the cache" in aikg_logs.text


def test_swap_with_an_equivalent_kernel_gives_equal_outputs(cache_dir):
    x = torch.randn(N)
    task = only_task(double, x)
    KernelCache(cache_dir).put(entry_for(task, CPP_TIMES.format(n=N, factor="2.0")))
    reference = torch.compile(double)(x)
    torch.testing.assert_close(compile_aikg(double, cache_dir)(x), reference, rtol=0, atol=0)


def test_accepted_set_change_recompiles_despite_inductor_graph_cache(cache_dir):
    x = torch.randn(N)
    task = only_task(double, x)
    cache = KernelCache(cache_dir)
    with torch._inductor.config.patch(fx_graph_cache=True):
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 2)  # fills Inductor's graph cache
        cache.put(entry_for(task, CPP_TIMES.format(n=N, factor="3.0")))
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 3)
        cache.remove(task.key)
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 2)


def test_plain_torch_compile_in_the_same_process_is_untouched(cache_dir):
    x = torch.randn(N)
    task = only_task(double, x)
    KernelCache(cache_dir).put(entry_for(task, CPP_TIMES.format(n=N, factor="3.0")))
    with torch._inductor.config.patch(fx_graph_cache=True):
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 3)
        torch.compiler.reset()
        torch.testing.assert_close(torch.compile(double)(x), x * 2)


def test_mode_off_records_but_never_swaps(cache_dir, tmp_path):
    x = torch.randn(N)
    task = only_task(double, x)
    KernelCache(cache_dir).put(entry_for(task, CPP_TIMES.format(n=N, factor="3.0")))
    record_dir = tmp_path / "tasks"
    torch.compiler.reset()
    f = torch.compile(double, backend="aikg",
                      options={"mode": "off", "cache_dir": str(cache_dir), "record_dir": str(record_dir)})
    torch.testing.assert_close(f(x), x * 2)
    assert [p.stem for p in record_dir.glob("*.json")] == [task.key]


class ExplodingSession:
    """A session that fails on every kernel: a test double, since no real component is built to fail here."""

    def on_kernel(self, task):
        raise RuntimeError("boom")

    def cache_token(self):
        return "exploding"


def test_a_failure_inside_the_interception_keeps_inductors_kernel(caplog):
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    x = torch.randn(N)

    def backend(gm, example_inputs):
        return interception.compile_with_inductor(
            gm, example_inputs, ExplodingSession(), use_graph_caches=False
        )

    torch.testing.assert_close(torch.compile(double, backend=backend)(x), x * 2)
    assert "could not process a kernel, keeping Inductor's: boom" in caplog.text


def test_tampered_entry_is_not_used(cache_dir, caplog):
    x = torch.randn(N)
    task = only_task(double, x)
    cache = KernelCache(cache_dir)
    cache.put(entry_for(task, CPP_TIMES.format(n=N, factor="3.0")))
    record = cache._db[task.key]
    cache._db[task.key] = record.replace(b"3.0f", b"5.0f")  # records are signature:payload bytes
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 2)
    assert "signature does not match" in caplog.text


def test_unusable_cache_dir_falls_back_to_inductor(tmp_path, caplog):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    x = torch.randn(N)
    torch.testing.assert_close(compile_aikg(double, blocker / "cache")(x), x * 2)
    assert "compiling with Inductor's kernels only" in caplog.text


def test_training_graphs_backward_kernels_are_seen(cache_dir, tmp_path):
    record_dir = tmp_path / "tasks"
    w = torch.randn(N, requires_grad=True)
    f = torch.compile(lambda x: (torch.tanh(x * w) ** 2).sum(), backend="aikg",
                      options={"mode": "off", "cache_dir": str(cache_dir), "record_dir": str(record_dir)})
    forward_only = len(list(record_dir.glob("*.json"))) if record_dir.exists() else 0
    f(torch.randn(N)).backward()
    recorded = list(record_dir.glob("*.json"))
    assert forward_only == 0 and len(recorded) >= 2  # forward and (lazily compiled) backward kernels
    assert w.grad is not None


def test_modes_that_act_on_misses_see_every_kernel_despite_warm_graph_caches(cache_dir, tmp_path):
    x = torch.randn(N)
    with torch._inductor.config.patch(fx_graph_cache=True), \
            torch._functorch.config.patch(enable_autograd_cache=True):
        for attempt in range(2):
            record_dir = tmp_path / f"tasks{attempt}"
            torch.compiler.reset()
            f = torch.compile(double, backend="aikg",
                              options={"mode": "off", "cache_dir": str(cache_dir), "record_dir": str(record_dir)})
            torch.testing.assert_close(f(x), x * 2)
            assert len(list(record_dir.glob("*.json"))) == 1, f"compile {attempt} saw no kernel"


def test_print_choices_names_each_replaced_kernel_and_says_when_a_graph_came_from_the_graph_cache(
        cache_dir, tmp_path, capsys, monkeypatch):
    x = torch.randn(N)
    task = only_task(double, x)
    KernelCache(cache_dir).put(entry_for(task, CPP_TIMES.format(n=N, factor="3.25")))
    monkeypatch.setenv("AIKG_PRINT_CHOICES", "1")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))  # graph caches of this test alone
    capsys.readouterr()
    with torch._inductor.config.patch(fx_graph_cache=True), \
            torch._functorch.config.patch(enable_autograd_cache=True):
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 3.25)
        compiled = capsys.readouterr().err
        torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 3.25)
        loaded = capsys.readouterr().err
    assert f"aikg: kernel {task.short_key} ({task.name}): replaced from the cache (2.000x when verified)" in compiled
    assert "graph cache" not in compiled
    assert "aikg: a graph came from Inductor's graph cache" in loaded and "replaced" not in loaded


@pytest.mark.parametrize("inductor_mode, max_autotune", [("default", False), ("max-autotune-no-cudagraphs", True)])
def test_the_inductor_mode_option_is_the_mode_inductor_compiles_in(monkeypatch, inductor_mode, max_autotune):
    # What Inductor's config says while it generates each kernel (the session hears of each kernel then).
    from torch._inductor import config as inductor_config

    from aikg_inductor.backend import CompileSession

    seen = []
    hear_kernel = CompileSession.on_kernel
    monkeypatch.setattr(CompileSession, "on_kernel",
                        lambda self, task: seen.append(inductor_config.max_autotune) or hear_kernel(self, task))
    capture(double, [torch.randn(64)], {"mode": "off", "inductor_mode": inductor_mode})
    assert seen == [max_autotune]
