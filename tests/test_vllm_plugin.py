"""The vLLM plugin without vLLM: what ``register`` (the ``vllm.general_plugins`` entry point) does with each kind of
cache, and that its process-wide session reaches compiles that call Inductor directly, as vLLM does.

vLLM itself is exercised by the `vllm` tier (tests/test_vllm_serving.py). Here the one vLLM class the plugin wraps
is a stand-in module (a TEST DOUBLE with the same method name) where a test needs it.
"""

import logging
import os
import subprocess
import sys
import types

import pytest
import torch

from aikg_inductor import KernelCache
from aikg_inductor.torch_internals import interception
from aikg_inductor.integrations import vllm as plugin
from conftest import REPO, double, only_task
from test_core_swap import CPP_TIMES, N, entry_for


@pytest.fixture(autouse=True)
def _clean_plugin_state(monkeypatch, restore_torch_configs):
    for name in [k for k in os.environ if k.startswith("AIKG_")]:
        monkeypatch.delenv(name)
    # Recording mode turns Inductor's graph caches off for the process: restore_torch_configs gives them back.
    yield
    interception.install_session(None)


@pytest.fixture
def no_vllm(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm raises ImportError, even where vLLM is installed


@pytest.fixture
def fake_vllm(monkeypatch):
    """A stand-in for vllm.config.compilation.CompilationConfig: only compute_hash, as vLLM's (a sha256 hex)."""

    class CompilationConfig:
        def compute_hash(self) -> str:
            return "0" * 64

    module = types.ModuleType("vllm.config.compilation")
    module.CompilationConfig = CompilationConfig
    monkeypatch.setitem(sys.modules, "vllm", types.ModuleType("vllm"))
    monkeypatch.setitem(sys.modules, "vllm.config", types.ModuleType("vllm.config"))
    monkeypatch.setitem(sys.modules, "vllm.config.compilation", module)
    return CompilationConfig


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("aikg")]


def filled_cache(cache_dir, factor="3.0"):
    x = torch.randn(N)
    task = only_task(double, x)
    cache = KernelCache(cache_dir)
    cache.put(entry_for(task, CPP_TIMES.format(n=N, factor=factor)))
    return cache, task, x


def test_no_cache_changes_nothing_and_creates_nothing(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("AIKG_CACHE_DIR", str(tmp_path / "none"))
    assert plugin.register() is None
    assert interception.installed_session() is None
    assert not (tmp_path / "none").exists()
    assert warnings_of(caplog) == []


def test_empty_cache_changes_nothing(cache_dir, monkeypatch, caplog):
    KernelCache(cache_dir).close()
    monkeypatch.setenv("AIKG_CACHE_DIR", str(cache_dir))
    assert plugin.register() is None
    assert interception.installed_session() is None
    assert warnings_of(caplog) == []


@pytest.mark.parametrize("damage", ["database", "key file"])
def test_unreadable_cache_logs_one_warning_and_steps_aside(cache_dir, monkeypatch, caplog, damage):
    filled_cache(cache_dir)
    if damage == "database":
        (cache_dir / "kernels" / "cache.db").write_bytes(b"this is not an sqlite database" * 100)
    else:
        (cache_dir / "secret.key").write_bytes(b"short")
    monkeypatch.setenv("AIKG_CACHE_DIR", str(cache_dir))
    assert plugin.register() is None
    assert interception.installed_session() is None
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and "vLLM serves with Inductor's kernels" in warnings[0], warnings


def test_tampered_cache_logs_one_warning_and_steps_aside(cache_dir, monkeypatch, caplog, fake_vllm):
    cache, task, x = filled_cache(cache_dir)
    cache._db[task.key] = cache._db[task.key].replace(b"3.0f", b"5.0f")  # records are signature:payload bytes
    cache.close()
    monkeypatch.setenv("AIKG_CACHE_DIR", str(cache_dir))
    assert plugin.register() is None
    assert interception.installed_session() is None
    assert fake_vllm().compute_hash() == "0" * 64  # vLLM's hash untouched
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and "failed signature or schema checks" in warnings[0], warnings
    torch.compiler.reset()
    torch.testing.assert_close(torch.compile(double)(x), x * 2)  # Inductor's own kernel


def test_a_vllm_without_the_hook_point_logs_one_warning_and_steps_aside(cache_dir, monkeypatch, caplog, no_vllm):
    filled_cache(cache_dir)
    monkeypatch.setenv("AIKG_CACHE_DIR", str(cache_dir))
    assert plugin.register() is None
    assert interception.installed_session() is None
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and "cannot hook" in warnings[0], warnings


def test_bad_options_log_one_warning_and_step_aside(monkeypatch, caplog):
    monkeypatch.setenv("AIKG_MODE", "fast")
    assert plugin.register() is None
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and "bad options" in warnings[0], warnings


def test_cache_mode_swaps_kernels_of_plain_inductor_compiles_and_keys_vllms_hash(cache_dir, monkeypatch, caplog,
                                                                                 fake_vllm):
    cache, task, x = filled_cache(cache_dir)
    fingerprint = cache.fingerprint()
    monkeypatch.setenv("AIKG_CACHE_DIR", str(cache_dir))
    caplog.set_level(logging.INFO, logger="aikg_inductor")
    assert plugin.register() is not None
    session = plugin.register()  # vLLM may load plugins again in a process: one session, no second hash wrapper
    assert session is not None and interception.installed_session() is session
    # vLLM compiles with backend="inductor", not through aikg: the installed session still sees the kernel.
    torch.compiler.reset()
    torch.testing.assert_close(torch.compile(double)(x), x * 3)
    assert session.swapped == {task.key: "cache"}
    assert "replaced from the cache" in caplog.text
    assert interception.CacheKeyPass().uuid() == f"aikg-cache-{fingerprint}"
    keyed = fake_vllm().compute_hash()
    assert keyed != "0" * 64 and len(keyed) == 64
    # Another accepted set gives another vLLM hash: vLLM's compile cache cannot serve the old choice.
    cache.put(entry_for(task, CPP_TIMES.format(n=N, factor="2.0")))
    interception.install_session(None)
    assert fake_vllm().compute_hash() == "0" * 64  # no session, no change
    assert plugin.register() is not None
    assert fake_vllm().compute_hash() not in ("0" * 64, keyed)


def test_record_mode_writes_tasks_that_aikg_tune_takes(tmp_path, cache_dir, monkeypatch):
    record_dir = tmp_path / "tasks"
    monkeypatch.setenv("AIKG_MODE", "off")
    monkeypatch.setenv("AIKG_RECORD_DIR", str(record_dir))
    session = plugin.register()
    assert session is not None
    x = torch.randn(N)
    torch.compiler.reset()
    torch.testing.assert_close(torch.compile(double)(x), x * 2)  # recording swaps nothing
    recorded = sorted(record_dir.glob("*.json"))
    assert [p.stem for p in recorded] == list(session.tasks)
    interception.install_session(None)

    # `aikg tune DIR` takes the recorded folder; a kernel the cache holds is not tuned again.
    filled_cache(cache_dir)
    tune = [sys.executable, "-m", "aikg_inductor.cli", "tune", str(record_dir), "--cache-dir", str(cache_dir)]
    result = subprocess.run(tune, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "already cached" in result.stdout and "tasks" in result.stdout  # the folder stands for the problem

    (record_dir / "junk.json").write_text("{}")
    result = subprocess.run(tune, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 2 and "not a task file" in result.stderr
