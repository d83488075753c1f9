"""One Inductor kernel outside a compile: its source as keyed and as loaded, its sizes, building and loading it.

What ``dsl/`` and ``verify/`` need of Inductor's private toolchain and runtime: the C++ build (Inductor's compiler
flags, binding glue and cache directory), the Triton loader (Inductor's ``CachingAutotuner``, also under Triton's
interpreter on CPU), size expressions in Inductor's sympy functions, and the device's architecture as task keys
name it. It knows nothing of the hook (``interception``), which builds on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from typing import Any, Callable, Iterator, Sequence

import torch

KERNEL_NAME = "Placeholder.KERNEL_NAME"
DESCRIPTIVE_NAME = "Placeholder.DESCRIPTIVE_NAME"


# --------------------------------------------------------------------------------------------- keys and sources


def device_arch(device: torch.device) -> str:
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        return f"sm{major}{minor}"
    from torch._inductor.cpu_vec_isa import pick_vec_isa

    return str(pick_vec_isa()) or "scalar"


def triton_version_or_none() -> str | None:
    try:
        import triton
    except ImportError:
        return None
    return triton.__version__


_DEVICE_INDEX = re.compile(r"(DeviceProperties\(type='cuda', index=)\d+")


def normalise_source(source: str, device_type: str) -> str:
    """Source as keyed and cached: machine-local details (the CUDA device index) removed."""
    source = "\n".join(line.rstrip() for line in source.strip().splitlines())
    if device_type == "cuda":
        source = _DEVICE_INDEX.sub(r"\g<1>0", source)
    return source


def localise_source(source: str, device: torch.device) -> str:
    """Undo ``normalise_source`` for the device this compile targets."""
    if device.type == "cuda":
        return _DEVICE_INDEX.sub(rf"\g<1>{device.index or 0}", source)
    return source


def evaluate_size(expr: str, symbols: dict[str, int]) -> int:
    """A recorded size expression (``KernelArg.expr``, ``TensorLayout.sym_*``) at concrete symbol values.

    Inductor's expressions use its own sympy functions (FloorDiv, ModularIndexing, CeilDiv, ...), which live in a
    private torch module; this is the one place that parses them.
    """
    import sympy
    from torch.utils._sympy import functions as sympy_functions

    namespace: dict[str, Any] = {
        name: value for name, value in vars(sympy_functions).items()
        if isinstance(value, type) and issubclass(value, sympy.Basic)
    }
    namespace.update({name: sympy.Integer(value) for name, value in symbols.items()})
    value = sympy.sympify(expr, locals=namespace)
    if not getattr(value, "is_number", False):
        raise ValueError(f"size expression {expr!r} has symbols without values: {value.free_symbols}")
    return int(value)


# --------------------------------------------------------------------------------------------- loading one kernel


def prepare_source_for_loading(source: str, name: str) -> str:
    """What Inductor's define_kernel does to a source before it is compiled: names filled in."""
    return source.replace(KERNEL_NAME, name).replace(DESCRIPTIVE_NAME, name)


@dataclasses.dataclass(frozen=True)
class CppBuild:
    """A C++ kernel compiled and linked by Inductor's toolchain, not loaded: nothing of it has run yet.

    ``kernel_object`` is the kernel source alone, compiled with the flags Inductor compiles its kernels with: the
    object a static proof reads. ``library`` links it with Inductor's Python-binding glue (generated here from the
    argument types, never from the candidate) into the module ``load_cpp_library`` opens.
    """

    key: str
    kernel_object: str
    glue_object: str
    library: str


# The types the binding glue passes to the kernel: every pointer as void* (one ABI for all pointer types, so the
# glue needs no kernel header), and the scalar types Inductor's kernels take.
_GLUE_SCALARS = {"int64_t", "long", "int32_t", "int", "float", "double", "bool"}
_CPP_POINTER = re.compile(r"^(?:const\s+)?[A-Za-z_][\w:]*(?:\s*<[\w:, ]+>)?\s*\*$")


def _glue_types(ctypes: Sequence[str]) -> list[str]:
    types = []
    for ctype in ctypes:
        ctype = " ".join(ctype.split())
        scalar = ctype.removeprefix("const ")
        if _CPP_POINTER.match(ctype):
            types.append("void*")
        elif scalar in _GLUE_SCALARS:
            types.append(scalar)
        else:
            raise ValueError(f"kernel argument type {ctype!r} is not one aikg binds")
    return types


@dataclasses.dataclass(frozen=True)
class GlueHook:
    """aikg's own C++ that the binding glue runs before every call of the kernel: ``definitions`` at file scope,
    then ``statement`` just before the call, in the glue's frame (compiled with the glue, never with the kernel)."""

    definitions: str
    statement: str


def _binding_glue(ctypes: Sequence[str], hook: GlueHook | None = None) -> str:
    """Inductor's Python binding for ``kernel(...)`` (``CppPythonBindingsCodeCache``'s), with its declaration and,
    where given, ``hook`` before the call."""
    from torch._inductor.codecache import CppPythonBindingsCodeCache as Bindings

    types = _glue_types(ctypes)
    declaration = f'#include <cstdint>\nextern "C" void {Bindings.entry_function}({", ".join(types)});\n'
    parse_args = ", ".join(f"parse_arg<{t}>(args, {n})" for n, t in enumerate(types))
    call = Bindings.call_entry_function.format(parse_args)
    return declaration + (hook.definitions if hook else "") + Bindings.suffix_template.format(
        arg_len=len(types),
        call_entry_func=f"{hook.statement} {call}" if hook else call,
        entry_func=Bindings.entry_function,
        extra_parse_arg=Bindings.extra_parse_arg.format(array_len=-1),
    )


class CppBuildTimeout(TimeoutError):
    pass


def build_cpp_kernel(source: str, ctypes: Sequence[str], timeout_s: float | None = None,
                     hook: GlueHook | None = None) -> CppBuild:
    """Compile a C++ kernel source (as in a task) and link it into a loadable module, without loading it.

    As ``CppPythonBindingsCodeCache.load_pybinding(..., kernel_code=...)`` builds: the kernel at Inductor's kernel
    flags (-O3, the machine's vector ISA, OpenMP, its precompiled header), the glue at -O1, linked with Inductor's
    link line. Built once per source and flags under Inductor's cache directory and lock. Each compiler run is
    bounded by ``timeout_s`` (CppBuildTimeout; the compiler's whole process group is killed). ``hook``: aikg's code
    the glue runs before each call.
    """
    from torch._inductor import config
    from torch._inductor.codecache import (
        LOCK_TIMEOUT,
        CppPythonBindingsCodeCache,
        _get_cpp_prefix_header,
        _precompile_header,
        get_lock_dir,
        write,
    )
    from torch._inductor.cpp_builder import CppBuilder, CppTorchDeviceOptions
    from torch._inductor.cpu_vec_isa import invalid_vec_isa, pick_vec_isa
    from torch.utils._filelock import FileLock

    kernel_code = prepare_source_for_loading(source, "kernel").replace("#pragma CMT", "//")
    glue_code = _binding_glue(ctypes, hook)
    shared = {**CppPythonBindingsCodeCache.cpp_compile_command_flags, "device_type": "cpu", "extra_flags": (),
              "use_relative_path": False}
    kernel_command = {**shared, "vec_isa": pick_vec_isa()}
    kernel_options = CppTorchDeviceOptions(compile_only=True, **kernel_command)
    glue_options = CppTorchDeviceOptions(compile_only=True, min_optimize=True, **{**shared, "vec_isa": invalid_vec_isa})
    link_options = CppTorchDeviceOptions(**shared)

    def command_line(options: Any) -> str:
        return CppBuilder(name="o", sources="i", BuildOption=options).get_command_line()

    kernel_line = command_line(kernel_options)
    key, kernel_path = write(kernel_code, "cpp", extra=f"{kernel_line} {glue_code} {command_line(link_options)}")
    _, glue_path = write(glue_code, "cpp", extra=command_line(glue_options))
    output_dir = os.path.dirname(kernel_path)
    kernel = CppBuilder(name=key, sources=kernel_path, BuildOption=kernel_options, output_dir=output_dir)
    glue = CppBuilder(name=os.path.basename(glue_path)[:-4], sources=glue_path, BuildOption=glue_options,
                      output_dir=os.path.dirname(glue_path))
    linker = CppBuilder(name=key, sources=[kernel.get_target_file_path(), glue.get_target_file_path()],
                        BuildOption=link_options, output_dir=output_dir)
    with FileLock(os.path.join(get_lock_dir(), key + ".lock"), timeout=LOCK_TIMEOUT):
        if not os.path.exists(linker.get_target_file_path()):
            if config.cpp_cache_precompile_headers and (header := _get_cpp_prefix_header("cpu")):
                kernel_options.precompiled_header = _precompile_header(header, kernel_line, **kernel_command)
            for builder in (kernel, glue, linker):
                _build_once(builder, timeout_s)
    return CppBuild(key, kernel.get_target_file_path(), glue.get_target_file_path(), linker.get_target_file_path())


def _build_once(builder: Any, timeout_s: float | None) -> None:
    """Run one CppBuilder's command (as ``CppBuilder.build`` does, with a time bound) unless its output exists; a
    failed build leaves no partial output behind."""
    import shlex
    import shutil
    import signal
    import subprocess
    import tempfile

    from torch._inductor.exc import CppCompileError

    target = builder.get_target_file_path()
    if os.path.exists(target):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="aikg-build-", dir=os.path.dirname(target))
    command = shlex.split(builder.get_command_line())
    try:
        process = subprocess.Popen(command, cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise CppBuildTimeout(f"the C++ compiler ran longer than {timeout_s:.0f} s") from None
        if process.returncode != 0:
            raise CppCompileError(command, output.decode(errors="replace"))
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(target)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def load_cpp_library(build: CppBuild) -> Callable[..., None]:
    """Open a built kernel module in this process (a dlopen, no compiler) and return its Python callable."""
    from torch._inductor.codecache import CppPythonBindingsCodeCache

    module = CppPythonBindingsCodeCache._load_library(build.library, build.key)
    return getattr(module, CppPythonBindingsCodeCache.entry_function)


def load_triton_kernel(source: str, device: torch.device) -> Callable[..., None]:
    """Load a Triton kernel source (as in a task); the callable takes the call arguments and launches on the
    current stream of ``device``.

    With ``device`` the CPU the kernel runs under Triton's interpreter (``TRITON_INTERPRET=1``, which must be set in
    this process) on CPU tensors; see ``triton_interpreter_problems``.
    """
    from torch._inductor.runtime.triton_heuristics import CachingAutotuner

    name = "aikg_kernel"
    kernel = getattr(load_triton_module(source, device), name)
    if device.type == "cpu":
        if not (isinstance(kernel, CachingAutotuner) and kernel.triton_interpret):
            raise RuntimeError(f"{name} did not load as an interpreted Inductor kernel (got {type(kernel).__name__})")

        def interpret(*args: Any) -> None:
            # CachingAutotuner.run interprets with its first config and Inductor's grid (_interpret_args_grid).
            kernel.run(*args, stream=0)

        return interpret

    def launch(*args: Any) -> None:
        stream = torch.cuda.current_stream(device).cuda_stream
        kernel.run(*args, stream=stream)

    launch.autotuner = kernel  # type: ignore[attr-defined]  # for precompile_triton_kernel
    return launch


def load_triton_module(source: str, device: torch.device) -> Any:
    """Import a Triton kernel module (as in a task, or a candidate's launcher form) through Inductor's code cache,
    for ``device`` (the CPU: under Triton's interpreter, which must be on in this process)."""
    from torch._inductor.codecache import PyCodeCache

    code = prepare_source_for_loading(localise_source(source, device), "aikg_kernel")
    if device.type != "cpu":
        return PyCodeCache.load(code)
    if problems := triton_interpreter_problems():
        raise RuntimeError("cannot run Triton kernels under the interpreter here: " + "; ".join(problems))
    with _no_gpu_driver_switch():
        return PyCodeCache.load(code)


# Versions whose interpreter path in CachingAutotuner (run -> _interpret_args_grid -> fn[grid]) we rely on.
INTERPRETER_TORCH = ("2.11", "2.12", "2.13")


def triton_interpreter_problems() -> list[str]:
    """Why Inductor-format Triton kernels cannot run on CPU tensors under Triton's interpreter here (empty: they can).

    Inductor's own CachingAutotuner launches through the interpreter when TRITON_INTERPRET=1 was set when it was
    created: with its first config, on the grid Inductor's grid expression gives. The one obstacle is the module
    prologue ``triton_helpers.set_driver_to_gpu()``, which raises without a GPU backend; ``_no_gpu_driver_switch``
    skips it while a kernel module loads (the interpreter needs no driver).
    """
    problems = []
    if os.environ.get("TRITON_INTERPRET", "0") != "1":
        problems.append("TRITON_INTERPRET=1 is not set in this process")
    if not torch.__version__.startswith(INTERPRETER_TORCH):
        problems.append(f"torch {torch.__version__} is not one of the tested releases {INTERPRETER_TORCH}")
    try:
        from torch._inductor.runtime import triton_helpers
        from torch._inductor.runtime.triton_heuristics import CachingAutotuner
    except ImportError as err:
        return [*problems, f"Inductor's Triton runtime does not import: {err}"]
    if not callable(getattr(triton_helpers, "set_driver_to_gpu", None)):
        problems.append("triton_helpers.set_driver_to_gpu is gone")
    if not hasattr(CachingAutotuner, "_interpret_args_grid"):
        problems.append("CachingAutotuner._interpret_args_grid is gone")
    return problems


@contextlib.contextmanager
def _no_gpu_driver_switch() -> Iterator[None]:
    from torch._inductor.runtime import triton_helpers

    original = triton_helpers.set_driver_to_gpu
    triton_helpers.set_driver_to_gpu = lambda: None
    try:
        yield
    finally:
        triton_helpers.set_driver_to_gpu = original


def ready_to_launch(compiled: Any) -> None:
    """Load a compiled Triton kernel's binary and build its launcher stub now, as its first launch would (a C compile:
    a compiler process, files): the candidate runner's sandbox forbids both (seen on an H200: a launcher-form
    candidate's first launch in the sandbox failed on opening /dev/null)."""
    compiled._init_handles()


def precompile_triton_kernel(launch: Callable[..., None]) -> None:
    """Compile every configuration of a kernel ``load_triton_kernel`` loaded on a GPU (ptxas, the launcher stub), so
    that running it later needs no compiler process (the candidate runner's sandbox forbids them)."""
    kernel = getattr(launch, "autotuner", None)
    if kernel is not None and hasattr(kernel, "precompile"):
        kernel.precompile()
