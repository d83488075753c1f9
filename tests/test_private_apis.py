"""Fails loudly when a torch release moves the private Inductor APIs aikg uses (``torch_internals``)."""

import subprocess
import sys

import pytest
import torch
from torch._inductor.codegen import common

from aikg_inductor import torch_internals
from aikg_inductor.torch_internals import interception, kernels


def test_private_apis_are_where_we_expect():
    torch_internals.check_private_apis()


def test_install_registers_our_schedulings_and_cache_key_pass():
    interception.install()
    interception.install()  # idempotent
    for device in ("cpu", "cuda"):
        assert getattr(common.device_codegens[device].scheduling, "_aikg", False), device
        assert isinstance(common.custom_backend_passes[device], interception.CacheKeyPass)
    with torch._inductor.config.patch(cpu_backend="cpp"):
        assert isinstance(common.device_codegens["cpu"].scheduling(None), interception.AikgCppScheduling)
    assert isinstance(common.device_codegens["cuda"].scheduling(None)._triton_scheduling,
                      interception.AikgTritonScheduling)


def test_cache_key_pass_is_constant_outside_aikg_compiles():
    assert interception.CacheKeyPass().uuid() == "aikg-inactive"


def test_source_normalisation_drops_the_device_index():
    line = "triton_meta={'device': DeviceProperties(type='cuda', index=3, multi_processor_count=132)}"
    normalised = kernels.normalise_source(line, "cuda")
    assert "index=0" in normalised
    assert "index=3" in kernels.localise_source(normalised, torch.device("cuda", 3))


def test_an_installed_session_is_seen_outside_activate_and_activate_wins(monkeypatch):
    class Session:
        def __init__(self, token):
            self.token = token

        def on_kernel(self, task):
            return None

        def cache_token(self):
            return self.token

    try:
        interception.install_session(Session("installed"))
        assert interception.CacheKeyPass().uuid() == "aikg-installed"
        with interception.activate(Session("active")):
            assert interception.CacheKeyPass().uuid() == "aikg-active"
    finally:
        interception.install_session(None)
    assert interception.CacheKeyPass().uuid() == "aikg-inactive"


def test_bypass_graph_caches_turns_off_the_caches_it_names(restore_torch_configs):
    interception.bypass_graph_caches()
    assert torch._inductor.config.fx_graph_cache is False and torch._functorch.config.enable_autograd_cache is False


def test_a_moved_private_api_is_named(monkeypatch):
    from torch._inductor import codecache

    monkeypatch.delattr(codecache, "_precompile_header")
    with pytest.raises(torch_internals.UnsupportedTorchError, match="codecache._precompile_header is gone"):
        torch_internals.check_private_apis()


def test_cpu_triton_kernels_are_hooked_only_under_the_interpreter(monkeypatch):
    interception.install()
    cpu = common.device_codegens["cpu"].scheduling
    with torch._inductor.config.patch(cpu_backend="triton"):
        monkeypatch.setenv("TRITON_INTERPRET", "1")
        assert type(cpu(None)) is interception.AikgTritonScheduling
        monkeypatch.setenv("TRITON_INTERPRET", "0")
        assert not isinstance(cpu(None), interception.AikgTritonScheduling)  # Inductor's own


def test_a_moved_kernel_object_method_is_named(monkeypatch):
    from torch._inductor.runtime.triton_heuristics import CachingAutotuner

    monkeypatch.setattr(CachingAutotuner, "precompile", lambda self, warm_cache_only, *, reload_kernel: None)
    with pytest.raises(torch_internals.UnsupportedTorchError, match=r"CachingAutotuner\.precompile takes"):
        torch_internals.check_private_apis()


def _worker_that_calls_more(load_kernel, extra_env, extra_config):
    kernel = load_kernel()
    kernel.precompile(warm_cache_only=True)
    kernel.save_launchers()
    return kernel, 0


def test_a_new_call_on_kernel_objects_is_named(monkeypatch):
    from torch._inductor.runtime import compile_tasks

    monkeypatch.setattr(compile_tasks, "_worker_compile_triton", _worker_that_calls_more)
    with pytest.raises(torch_internals.UnsupportedTorchError, match="async_compile calls save_launchers"):
        torch_internals.check_private_apis()


def test_the_kernel_library_does_not_import_the_hook():
    """dsl/ and verify/ load kernels through ``kernels``; the hook sits above it, never below."""
    code = ("import sys; import aikg_inductor.torch_internals.kernels, aikg_inductor.torch_internals.heuristics, "
            "aikg_inductor.torch_internals.cuda_ipc, aikg_inductor.verify.values, aikg_inductor.dsl.cpp_cpu; "
            "print('aikg_inductor.torch_internals.interception' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"


def test_inductor_knows_every_mode_the_inductor_mode_option_allows():
    from torch._inductor import list_mode_options

    from aikg_inductor.options import INDUCTOR_MODES

    for mode in INDUCTOR_MODES:
        list_mode_options(mode)  # raises RuntimeError for a mode Inductor does not know
