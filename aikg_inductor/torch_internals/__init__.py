"""Everything aikg does with PyTorch's private APIs, in one place, checked against the releases it was tested on.

- ``interception``: the Inductor hook (Scheduling subclasses, the cache-key pass, compiling with a session).
- ``int_ranges``: the legal values of a kernel's integer inputs, read from its post-grad ATen ops (for the hook).
- ``kernels``: one kernel outside a compile: keys and sources, sizes, building and loading (used by ``dsl/`` and
  ``verify/``; it never imports the hook).
- ``heuristics``: Inductor's Triton launch heuristics (the tuner's starting points).
- ``cuda_ipc``: one CUDA allocation shared between the verifier's processes.
- ``bound_kernel``: a Python callable as Inductor's generated code calls a Triton kernel object (runtime code).
- ``fake_tensor_log``: torch's logged copy of a failed shape check, held back while a command compiles a problem file.

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
    problems += _moved_kernel_object_protocol()
    problems += _moved_fake_tensor_log()
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
        inductor_config: ("fx_graph_cache", "fx_graph_remote_cache", "cpp_wrapper", "cpu_backend", "cuda_backend"),
        inductor_config.triton: ("multi_kernel",),  # with cpp_wrapper: where a kernel cannot be a Python object
        # Capturing Triton tasks on CPU (interception.triton_tasks_on_cpu).
        torch.utils._triton: ("triton_hash_with_backend",),
        functorch_config: ("enable_autograd_cache", "enable_remote_autograd_cache"),
        # The C++ loaders: Inductor's toolchain, its binding glue and its cache directory.
        codecache: ("write", "get_lock_dir", "LOCK_TIMEOUT", "_precompile_header", "_get_cpp_prefix_header"),
        codecache.CppPythonBindingsCodeCache: ("suffix_template", "entry_function", "call_entry_function",
                                               "extra_parse_arg", "cpp_compile_command_flags", "_load_library"),
        cpp_builder: ("CppBuilder", "CppTorchDeviceOptions"),
        **_triton_attributes(),
    }


def _triton_attributes() -> dict[object, tuple[str, ...]]:
    """Triton's, where it is installed: a launcher-form candidate's kernels made ready to launch before the runner's
    lockdown (``kernels.ready_to_launch``)."""
    try:
        from triton.compiler.compiler import CompiledKernel
    except ImportError:
        return {}
    return {CompiledKernel: ("_init_handles",)}


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


def _moved_kernel_object_protocol() -> list[str]:
    """Where Inductor no longer calls a Triton kernel object only as ``bound_kernel.BoundKernel`` answers: what
    ``async_compile.triton`` (and its compile worker) calls or reads on it, how ``CachingAutotuner.run`` and the other
    methods take their parameters, and the ``.run(..., stream=...)`` line the Python wrapper writes."""
    import re

    from torch._inductor import async_compile, graph
    from torch._inductor.codegen.wrapper import PythonWrapperCodegen
    from torch._inductor.runtime import compile_tasks
    from torch._inductor.runtime.triton_heuristics import CachingAutotuner

    from .bound_kernel import KERNEL_PROTOCOL, BoundKernel

    problems = []
    callers = [async_compile.AsyncCompile.triton, compile_tasks._worker_compile_triton]
    if hasattr(async_compile, "_emit_triton_kernel_compile_metric"):  # 2.13; earlier releases read it in triton()
        callers.append(async_compile._emit_triton_kernel_compile_metric)
    used = {name for caller in callers for name in re.findall(r"\bkernel\.(\w+)", inspect.getsource(caller))}
    if unknown := sorted(used - KERNEL_PROTOCOL):
        problems.append(f"async_compile calls {', '.join(unknown)} on Triton kernel objects")
    for name in sorted(KERNEL_PROTOCOL - {"autotune_cache_info"}):
        want, got = _parameters(getattr(CachingAutotuner, name)), _parameters(getattr(BoundKernel, name))
        if want != got:
            problems.append(f"CachingAutotuner.{name} takes {want}, BoundKernel.{name} {got}")
    if not re.search(r"\.run\(\{[^}]*\}, stream=\{", inspect.getsource(PythonWrapperCodegen._generate_kernel_call_helper)):
        problems.append("the Python wrapper no longer calls Triton kernels as <kernel>.run(<args>, stream=<stream>)")
    init = inspect.getsource(graph.GraphLowering.__init__)
    problems += [f"GraphLowering has no {name} attribute" for name in ("cpp_wrapper", "aot_mode", "fx_wrapper")
                 if f"self.{name} =" not in init]
    return problems


def _moved_fake_tensor_log() -> list[str]:
    """Where torch no longer logs a failed shape check as ``fake_tensor_log`` holds it back."""
    from torch._subclasses import fake_tensor

    from .fake_tensor_log import LOGGER, MESSAGE

    if fake_tensor.log.name != LOGGER or f'log.exception("{MESSAGE} %s"' not in inspect.getsource(fake_tensor):
        return [f"{LOGGER} no longer logs a failed shape check as {MESSAGE!r}"]
    return []


def _parameters(fn: object) -> list[str]:
    """A method's parameters as written (keyword-only marked), without the annotations and defaults."""
    kinds = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [("kw:" if p.kind == p.KEYWORD_ONLY else kinds.get(p.kind, "")) + p.name
            for p in inspect.signature(fn).parameters.values()]

