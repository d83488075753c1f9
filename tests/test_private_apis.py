"""Fails loudly when a torch release moves the private Inductor APIs aikg hooks (interception.py)."""

import torch
from torch._inductor.codegen import common

from aikg_inductor import interception


def test_private_apis_are_where_we_expect():
    interception.check_private_apis()


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
    normalised = interception.normalise_source(line, "cuda")
    assert "index=0" in normalised
    assert "index=3" in interception.localise_source(normalised, torch.device("cuda", 3))
