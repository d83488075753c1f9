"""Everything aikg does with PyTorch's private APIs, in one place, checked against the releases it was tested on.

- ``interception``: the Inductor hook (Scheduling subclasses, the cache-key pass, compiling with a session).
- ``kernels``: one kernel outside a compile: keys and sources, sizes, building and loading (used by ``dsl/`` and
  ``verify/``; it never imports the hook).
- ``heuristics``: Inductor's Triton launch heuristics (the tuner's starting points).
- ``cuda_ipc``: one CUDA allocation shared between the verifier's processes.

Supported: torch 2.11 to 2.13 (``SUPPORTED_TORCH``); ``check_private_apis()`` fails loudly when a release moves
what these modules rely on. Importing this package imports none of them.
"""

from __future__ import annotations

import inspect

import torch

SUPPORTED_TORCH = ("2.11", "2.12", "2.13")


class UnsupportedTorchError(RuntimeError):
    pass


def check_private_apis() -> None:
    """Raise UnsupportedTorchError naming what moved, if the private APIs we use are not as we expect."""
    problems = []
    if not torch.__version__.startswith(SUPPORTED_TORCH):
        problems.append(f"torch {torch.__version__} is not one of the tested releases {SUPPORTED_TORCH}")
    for owner, names in _expected_attributes().items():
        owner_name = getattr(owner, "__name__", owner)
        problems += [f"{owner_name}.{name} is gone" for name in names if not hasattr(owner, name)]
    problems += _moved_hook_signatures()
    if problems:
        raise UnsupportedTorchError("aikg-inductor cannot hook this torch: " + "; ".join(problems))


def _expected_attributes() -> dict[object, tuple[str, ...]]:
    """What the hook (``interception``) and the C++ loaders (``kernels``) use, by owner."""
    from torch._functorch import config as functorch_config
    from torch._inductor import codecache, cpp_builder
    from torch._inductor import config as inductor_config
    from torch._inductor.codegen import common as codegen_common
    from torch._inductor.codegen.cpp import CppScheduling
    from torch._inductor.codegen.cuda_combined_scheduling import CUDACombinedScheduling
    from torch._inductor.codegen.triton import TritonScheduling

    return {
        codegen_common: ("register_backend_for_device", "init_backend_registration", "device_codegens",
                         "custom_backend_passes"),
        CppScheduling: ("define_kernel",),
        TritonScheduling: ("define_kernel",),
        CUDACombinedScheduling: ("choose_node_backend",),
        inductor_config: ("fx_graph_cache", "fx_graph_remote_cache", "cpu_backend"),
        # Capturing Triton tasks on CPU (interception.triton_tasks_on_cpu).
        torch.utils._triton: ("triton_hash_with_backend",),
        functorch_config: ("enable_autograd_cache", "enable_remote_autograd_cache"),
        # The C++ loaders: Inductor's toolchain, its binding glue and its cache directory.
        codecache: ("write", "get_lock_dir", "LOCK_TIMEOUT", "_precompile_header", "_get_cpp_prefix_header"),
        codecache.CppPythonBindingsCodeCache: ("suffix_template", "entry_function", "call_entry_function",
                                               "extra_parse_arg", "cpp_compile_command_flags", "_load_library"),
        cpp_builder: ("CppBuilder", "CppTorchDeviceOptions"),
    }


def _moved_hook_signatures() -> list[str]:
    """The ``define_kernel`` methods the hook overrides, where their parameters are not the ones it passes on."""
    from torch._inductor.codegen.cpp import CppScheduling
    from torch._inductor.codegen.triton import TritonScheduling

    problems = []
    for cls, params in ((CppScheduling, ["self", "src_code", "nodes", "kernel_args"]),
                        (TritonScheduling, ["self", "src_code", "node_schedule", "kernel"])):
        got = list(inspect.signature(cls.define_kernel).parameters)
        if got != params:
            problems.append(f"{cls.__name__}.define_kernel takes {got}, expected {params}")
    return problems
