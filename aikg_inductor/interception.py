"""The one module that touches private Inductor APIs.

It registers Scheduling subclasses for ``cpu`` (C++ kernels) and ``cuda`` (Triton kernels) whose ``define_kernel``
sees every fused kernel's source after fusion and before compilation, turns it into a ``KernelTask`` and lets the
active ``KernelSession`` supply a replacement. It also registers a no-op custom pass whose ``uuid()`` carries the
session's fingerprint into Inductor's FX graph cache key, and it holds the loaders that compile one kernel alone.

Outside an ``activate()`` block (any compile that is not through the ``aikg`` backend) everything here defers to
Inductor unchanged, unless a serving plugin installed a session for the whole process (``install_session``).
Supported: torch 2.11 and 2.13 (``SUPPORTED_TORCH``); ``check_private_apis()`` fails loudly when a release moves
what we rely on.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import os
import re
from typing import Any, Callable, Iterator, Protocol, Sequence

import torch
from torch._inductor import config as inductor_config
from torch._inductor.codegen import common as codegen_common
from torch._inductor.codegen.cpp import CppScheduling
from torch._inductor.codegen.cuda_combined_scheduling import CUDACombinedScheduling
from torch._inductor.codegen.triton import TritonScheduling
from torch._inductor.custom_graph_pass import CustomGraphModulePass
from torch._inductor.virtualized import V

from .options import OptionsError
from .task import KernelArg, KernelTask, TensorLayout, role_of, task_key

log = logging.getLogger(__name__)

SUPPORTED_TORCH = ("2.11", "2.12", "2.13")
KERNEL_NAME = "Placeholder.KERNEL_NAME"
DESCRIPTIVE_NAME = "Placeholder.DESCRIPTIVE_NAME"
DSL_BY_DEVICE = {"cpu": "cpp-cpu", "cuda": "triton-cuda"}


class KernelSession(Protocol):
    """What the backend gives the interception for one compile."""

    def on_kernel(self, task: KernelTask) -> str | None:
        """Called once per fused kernel; returns replacement source (normalised, like ``task.source``) or None."""

    def cache_token(self) -> str:
        """A string that changes whenever the kernels this session would swap in change."""

    def on_graph_cache_hit(self) -> None:
        """Called when Inductor's or AOTAutograd's graph cache answered: no kernel went through ``on_kernel``."""


_ACTIVE: contextvars.ContextVar[KernelSession | None] = contextvars.ContextVar("aikg_session", default=None)
# A serving stack (vLLM) calls Inductor itself, in threads and processes we do not control, so there a session is
# installed for the whole process instead. This is the one piece of process-wide state; an ``activate()`` block
# (the aikg backend's own compiles) still takes precedence inside it.
_INSTALLED: KernelSession | None = None


@contextlib.contextmanager
def activate(session: KernelSession) -> Iterator[None]:
    """Make ``session`` see the kernels of compiles run inside this block (this thread/context only)."""
    token = _ACTIVE.set(session)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def install_session(session: KernelSession | None) -> None:
    """Make ``session`` see the kernels of every Inductor compile in this process (None: stop). For serving
    plugins, whose compiles are not ours to wrap in ``activate()``."""
    global _INSTALLED
    if session is not None:
        install()
    _INSTALLED = session


def installed_session() -> KernelSession | None:
    return _INSTALLED


def _current_session() -> KernelSession | None:
    session = _ACTIVE.get()
    return _INSTALLED if session is None else session


def bypass_graph_caches() -> None:
    """Turn off Inductor's FX graph cache and AOTAutograd's cache for this process, so that every kernel of every
    compile goes through the scheduler (and so through an installed session that records tasks)."""
    from torch._functorch import config as functorch_config

    inductor_config.fx_graph_cache = False
    inductor_config.fx_graph_remote_cache = False
    functorch_config.enable_autograd_cache = False
    functorch_config.enable_remote_autograd_cache = False


# --------------------------------------------------------------------------------------------- version guard


class UnsupportedTorchError(RuntimeError):
    pass


def check_private_apis() -> None:
    """Raise UnsupportedTorchError naming what moved, if the private APIs we use are not as we expect."""
    from torch._functorch import config as functorch_config

    problems = []
    if not torch.__version__.startswith(SUPPORTED_TORCH):
        problems.append(f"torch {torch.__version__} is not one of the tested releases {SUPPORTED_TORCH}")
    expected = {
        codegen_common: ("register_backend_for_device", "init_backend_registration", "device_codegens",
                         "custom_backend_passes"),
        CppScheduling: ("define_kernel",),
        TritonScheduling: ("define_kernel",),
        CUDACombinedScheduling: ("choose_node_backend",),
        inductor_config: ("fx_graph_cache", "fx_graph_remote_cache"),
        functorch_config: ("enable_autograd_cache", "enable_remote_autograd_cache"),
    }
    from torch._inductor import codecache, cpp_builder

    # The C++ loaders: Inductor's toolchain, its binding glue and its cache directory.
    expected[codecache] = ("write", "get_lock_dir", "LOCK_TIMEOUT", "_precompile_header", "_get_cpp_prefix_header")
    expected[codecache.CppPythonBindingsCodeCache] = ("suffix_template", "entry_function", "call_entry_function",
                                                      "extra_parse_arg", "cpp_compile_command_flags", "_load_library")
    expected[cpp_builder] = ("CppBuilder", "CppTorchDeviceOptions")
    for owner, names in expected.items():
        for name in names:
            if not hasattr(owner, name):
                problems.append(f"{getattr(owner, '__name__', owner)}.{name} is gone")
    import inspect

    for cls, params in ((CppScheduling, ["self", "src_code", "nodes", "kernel_args"]),
                        (TritonScheduling, ["self", "src_code", "node_schedule", "kernel"])):
        got = list(inspect.signature(cls.define_kernel).parameters)
        if got != params:
            problems.append(f"{cls.__name__}.define_kernel takes {got}, expected {params}")
    if problems:
        raise UnsupportedTorchError("aikg-inductor cannot hook this torch: " + "; ".join(problems))


# --------------------------------------------------------------------------------------------- errors for the user

# Dynamo wraps whatever a backend raises in BackendCompilerFailed, whose message asks to report a bug to PyTorch,
# except ShortenTraceback (torch._dynamo.exc, torch 2.11 to 2.13), which it re-raises as it is with its traceback cut
# to the frame it names. A bad option is the user's mistake, not PyTorch's: our error is also one of those.
try:
    from torch._dynamo.exc import ShortenTraceback as _DynamoPassesOn

    _PASSED_ON: tuple[type[Exception], ...] = (_DynamoPassesOn,)
except ImportError:  # a Dynamo without it wraps our error but keeps its message
    _PASSED_ON = ()


class BackendOptionsError(OptionsError, *_PASSED_ON):  # type: ignore[misc]
    """Bad ``options=`` for ``torch.compile(backend="aikg")``: reaches the caller as itself (an ``OptionsError``),
    not as a PyTorch bug."""

    def __init__(self, message: str, frame: Any = None) -> None:
        Exception.__init__(self, message)
        self.message = message
        self.first_useful_frame = frame  # where Dynamo cuts the traceback: the backend's own frame

    def __str__(self) -> str:
        return self.message  # Dynamo appends hints to args ("Set TORCHDYNAMO_VERBOSE=1 ..."); the message stays ours


# --------------------------------------------------------------------------------------------- describing kernels


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _hint(expr: Any) -> int:
    """The concrete value Inductor assumes for a (possibly symbolic) size."""
    sizevars = V.graph.sizevars
    # torch 2.13 renamed SizeVarAllocator.size_hint to optimization_hint.
    hint = getattr(sizevars, "optimization_hint", None) or sizevars.size_hint
    return int(hint(expr, fallback=8192))


def _layout_of(buffer: str) -> TensorLayout:
    if buffer in V.graph.constants:
        t = V.graph.constants[buffer]
        return TensorLayout(tuple(t.size()), tuple(t.stride()), _dtype_name(t.dtype), t.storage_offset())
    layout = V.graph.get_buffer(buffer).get_layout()
    return TensorLayout(
        size=tuple(_hint(s) for s in layout.size),
        stride=tuple(_hint(s) for s in layout.stride),
        dtype=_dtype_name(layout.dtype),
        offset=_hint(layout.offset),
    )


def _is_symbolic(buffer: str) -> bool:
    if buffer in V.graph.constants:
        return False
    layout = V.graph.get_buffer(buffer).get_layout()
    return any(not _is_number(e) for e in (*layout.size, *layout.stride, layout.offset))


def _is_number(expr: Any) -> bool:
    return isinstance(expr, int) or bool(getattr(expr, "is_number", False))


def _scheduler_nodes(nodes: Sequence[Any]) -> list[Any]:
    """The plain scheduler nodes in a node list or node schedule (which holds markers between nodes)."""
    flat = []
    for node in nodes:
        if hasattr(node, "get_nodes"):
            flat.extend(n for n in node.get_nodes() if hasattr(n, "node"))
    return flat


def _origins(nodes: list[Any]) -> tuple[str, ...]:
    names = set()
    for node in nodes:
        for origin in getattr(node.node, "origins", ()) or ():
            if origin.op == "call_function":
                names.add(str(origin.target))
    return tuple(sorted(names))


def _is_live_after(buffer: str, kernel_nodes: list[Any]) -> bool:
    """Whether anything outside this kernel reads ``buffer``: a graph output or a user in another kernel."""
    try:
        if buffer in V.graph.get_output_names():
            return True
        inside = {n.get_name() for n in kernel_nodes}
        buf = V.graph.scheduler.name_to_buf[buffer]
        return any(user.get_name() not in inside for user in buf.users)
    except Exception:  # noqa: BLE001 - unknown means live: verification then checks the buffer
        return True


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


def _build_task(
    source: str,
    nodes: Sequence[Any],
    params: Sequence[str],
    call_args: Sequence[Any],
    ctypes: Sequence[str | None],
    size_exprs: dict[str, Any],
) -> KernelTask:
    device = V.graph.get_current_device_or_throw()
    kernel_nodes = _scheduler_nodes(nodes)
    args, dynamic, exprs = [], False, []
    for param, call_arg, ctype in zip(params, call_args, ctypes):
        role = role_of(param)
        if role is None:
            raise ValueError(f"kernel parameter {param!r} has a kind aikg does not handle")
        if role == "size":
            expr = size_exprs.get(str(call_arg), call_arg)
            dynamic = dynamic or not _is_number(expr)
            args.append(KernelArg(param, str(call_arg), role, value=_hint(expr), ctype=ctype))
            exprs.append(expr)
            continue
        buffer = str(call_arg)
        dynamic = dynamic or _is_symbolic(buffer)
        live = role == "in" or _is_live_after(buffer, kernel_nodes)
        args.append(KernelArg(param, buffer, role, layout=_layout_of(buffer), live=live, ctype=ctype))
        exprs.append(buffer)
    symbols: tuple[tuple[str, int], ...] = ()
    if dynamic:
        args, symbols = _with_symbolic_sizes(args, exprs)
    dsl = DSL_BY_DEVICE[device.type]
    normalised = normalise_source(source, device.type)
    arch = device_arch(device)
    triton_version = triton_version_or_none() if dsl.startswith("triton") else None
    return KernelTask(
        key=task_key(normalised, dsl, device.type, arch, torch.__version__, triton_version),
        dsl=dsl,
        device_type=device.type,
        arch=arch,
        torch_version=torch.__version__,
        triton_version=triton_version,
        source=normalised,
        args=tuple(args),
        origins=_origins(kernel_nodes),
        name=_fused_name(kernel_nodes),
        dynamic=dynamic,
        symbols=symbols,
    )


def _with_symbolic_sizes(args: list[KernelArg], exprs: list[Any]) -> tuple[list[KernelArg], tuple[tuple[str, int], ...]]:
    """The arguments with their size expressions recorded (layouts of tensors, values of sizes) and the symbols
    those use with the values Inductor assumed: what ``evaluate_size`` needs to place the kernel at other sizes."""
    import sympy

    free: set[Any] = set()

    def text(expr: Any) -> str:
        expr = sympy.sympify(expr)
        free.update(expr.free_symbols)
        return str(expr)

    out = []
    for arg, expr in zip(args, exprs):
        if arg.layout is None:
            out.append(dataclasses.replace(arg, expr=text(expr)))
            continue
        if expr in V.graph.constants:
            layout = dataclasses.replace(arg.layout, sym_size=tuple(map(str, arg.layout.size)),
                                         sym_stride=tuple(map(str, arg.layout.stride)),
                                         sym_offset=str(arg.layout.offset))
        else:
            ir_layout = V.graph.get_buffer(expr).get_layout()
            layout = dataclasses.replace(arg.layout, sym_size=tuple(text(e) for e in ir_layout.size),
                                         sym_stride=tuple(text(e) for e in ir_layout.stride),
                                         sym_offset=text(ir_layout.offset))
        out.append(dataclasses.replace(arg, layout=layout))
    symbols = tuple(sorted((str(s), _hint(s)) for s in free))
    return out, symbols


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


def _fused_name(kernel_nodes: list[Any]) -> str:
    from torch._inductor.utils import get_fused_kernel_name

    try:
        return get_fused_kernel_name(kernel_nodes, "original_aten")
    except Exception:  # noqa: BLE001 - a name is for people only
        return ""


def _describe_cpp(src_code: str, nodes: Sequence[Any], kernel_args: Any) -> KernelTask:
    arg_defs, call_args, arg_types = kernel_args.cpp_argdefs()
    params = [d.split()[-1].lstrip("*") for d in arg_defs]
    size_exprs = {name: expr for expr, name in kernel_args.sizevars.items()}
    size_exprs.update({str(expr): expr for expr in kernel_args.sizevars})
    return _build_task(src_code, nodes, params, call_args, arg_types, size_exprs)


def _describe_triton(src_code: str, node_schedule: Sequence[Any], kernel: Any) -> KernelTask:
    arg_defs, call_args, _, _ = kernel.args.python_argdefs()
    params = [getattr(d, "name", d) for d in arg_defs]
    call_args = list(call_args)
    size_exprs = {name: expr for expr, name in kernel.args.sizevars.items()}
    size_exprs.update({str(expr): expr for expr in kernel.args.sizevars})
    # Inductor appends the iteration-space sizes after the buffers (see TritonKernel.add_numel_to_call_args).
    for tree in kernel.range_trees:
        if not tree.is_reduction or kernel.inside_reduction:
            params.append(f"{tree.prefix}numel")
            call_args.append(tree.numel)
    return _build_task(src_code, node_schedule, params, call_args, [None] * len(params), size_exprs)


# --------------------------------------------------------------------------------------------- the hook


def _intercept(src_code: str, describe: Callable[[], KernelTask]) -> str:
    """The source Inductor should compile: the session's replacement, else the baseline. Never raises."""
    session = _current_session()
    if session is None:
        return src_code
    try:
        task = describe()
        replacement = session.on_kernel(task)
    except Exception as err:  # noqa: BLE001 - a failure here must never break the user's compile
        log.warning("aikg: could not process a kernel, keeping Inductor's: %s", err, exc_info=log.isEnabledFor(10))
        return src_code
    if replacement is None:
        return src_code
    return localise_source(replacement, V.graph.get_current_device_or_throw())


class AikgCppScheduling(CppScheduling):
    def define_kernel(self, src_code, nodes, kernel_args=None):  # type: ignore[override]
        args = self.kernel_group.args if kernel_args is None else kernel_args
        src_code = _intercept(src_code, lambda: _describe_cpp(src_code, nodes, args))
        return super().define_kernel(src_code, nodes, kernel_args)


class AikgTritonScheduling(TritonScheduling):
    def define_kernel(self, src_code, node_schedule, kernel):  # type: ignore[override]
        src_code = _intercept(src_code, lambda: _describe_triton(src_code, node_schedule, kernel))
        return super().define_kernel(src_code, node_schedule, kernel)


class AikgCudaScheduling(CUDACombinedScheduling):
    """Inductor's CUDA scheduling with our Triton scheduling in its place; templates are left alone."""

    def __init__(self, scheduler: Any) -> None:
        super().__init__(scheduler)
        self._triton_scheduling = AikgTritonScheduling(scheduler)


class CacheKeyPass(CustomGraphModulePass):
    """A pass that changes nothing in the graph; its uuid puts the session's token into Inductor's cache key."""

    def __call__(self, gm: torch.fx.GraphModule) -> None:
        return None

    def uuid(self) -> str:
        session = _current_session()
        return "aikg-inactive" if session is None else f"aikg-{session.cache_token()}"


_OURS = {"cpu": (AikgCppScheduling, "cpu_backend", "cpp"), "cuda": (AikgCudaScheduling, "cuda_backend", "triton")}


def install() -> None:
    """Register our schedulings and cache-key pass for cpu and cuda. Idempotent; inert outside ``activate()``."""
    codegen_common.init_backend_registration()
    for device, (ours, config_name, backend_name) in _OURS.items():
        current = codegen_common.device_codegens.get(device)
        if current is None or getattr(current.scheduling, "_aikg", False):
            continue
        inductor_scheduling = current.scheduling

        def scheduling(scheduler: Any, ours=ours, config_name=config_name, backend_name=backend_name,
                       inductor_scheduling=inductor_scheduling) -> Any:
            # Only Inductor's default backend for the device is ours to hook (not halide, pallas, ...).
            if getattr(inductor_config, config_name) == backend_name:
                return ours(scheduler)
            return inductor_scheduling(scheduler)

        scheduling._aikg = True  # type: ignore[attr-defined]
        codegen_common.register_backend_for_device(
            device,
            scheduling,
            current.wrapper_codegen,
            current.cpp_wrapper_codegen,
            getattr(current, "fx_wrapper_codegen", None),
            device_custom_pass=CacheKeyPass(),
        )


def is_installed() -> bool:
    current = codegen_common.device_codegens.get("cpu")
    return current is not None and getattr(current.scheduling, "_aikg", False)


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


def _binding_glue(ctypes: Sequence[str]) -> str:
    """Inductor's Python binding for ``kernel(...)`` (``CppPythonBindingsCodeCache``'s), with its declaration."""
    from torch._inductor.codecache import CppPythonBindingsCodeCache as Bindings

    types = _glue_types(ctypes)
    declaration = f'#include <cstdint>\nextern "C" void {Bindings.entry_function}({", ".join(types)});\n'
    parse_args = ", ".join(f"parse_arg<{t}>(args, {n})" for n, t in enumerate(types))
    return declaration + Bindings.suffix_template.format(
        arg_len=len(types),
        call_entry_func=Bindings.call_entry_function.format(parse_args),
        entry_func=Bindings.entry_function,
        extra_parse_arg=Bindings.extra_parse_arg.format(array_len=-1),
    )


class CppBuildTimeout(TimeoutError):
    pass


def build_cpp_kernel(source: str, ctypes: Sequence[str], timeout_s: float | None = None) -> CppBuild:
    """Compile a C++ kernel source (as in a task) and link it into a loadable module, without loading it.

    As ``CppPythonBindingsCodeCache.load_pybinding(..., kernel_code=...)`` builds: the kernel at Inductor's kernel
    flags (-O3, the machine's vector ISA, OpenMP, its precompiled header), the glue at -O1, linked with Inductor's
    link line. Built once per source and flags under Inductor's cache directory and lock. Each compiler run is
    bounded by ``timeout_s`` (CppBuildTimeout; the compiler's whole process group is killed).
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
    glue_code = _binding_glue(ctypes)
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


def load_cpp_kernel(source: str, ctypes: Sequence[str]) -> Callable[..., None]:
    """Compile a C++ kernel source (as in a task) into a Python callable taking tensors and ints."""
    return load_cpp_library(build_cpp_kernel(source, ctypes))


def load_triton_kernel(source: str, device: torch.device) -> Callable[..., None]:
    """Load a Triton kernel source (as in a task); the callable takes the call arguments and launches on the
    current stream of ``device``.

    With ``device`` the CPU the kernel runs under Triton's interpreter (``TRITON_INTERPRET=1``, which must be set in
    this process) on CPU tensors; see ``triton_interpreter_problems``.
    """
    from torch._inductor.runtime.triton_heuristics import CachingAutotuner

    name = "aikg_kernel"
    module = load_triton_module(source, device)
    kernel = getattr(module, name)
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


# --------------------------------------------------------------------------------------------- compiling


def compile_with_inductor(
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    session: KernelSession,
    inductor_mode: str | None = None,
    use_graph_caches: bool = True,
) -> Any:
    """Inductor's ``compile_fx`` with ``session`` active for every graph it compiles, the backward graph too
    (which AOTAutograd compiles later, outside this call, through ``inner_compile``). ``inductor_mode`` is
    torch.compile's mode ("max-autotune", ...). Without ``use_graph_caches`` neither AOTAutograd's cache nor
    Inductor's FX graph cache may answer: every kernel then goes through the scheduler, and so through the session.
    """
    from torch._functorch import config as functorch_config
    from torch._inductor import list_mode_options
    from torch._inductor.compile_fx import compile_fx, compile_fx_inner

    patches = dict(list_mode_options(inductor_mode)) if inductor_mode else {}
    caches = contextlib.nullcontext()
    if not use_graph_caches:
        patches.update(fx_graph_cache=False, fx_graph_remote_cache=False)
        caches = functorch_config.patch(enable_autograd_cache=False, enable_remote_autograd_cache=False)

    def inner_compile(gm: torch.fx.GraphModule, example_inputs: Sequence[Any], **kwargs: Any) -> Any:
        with activate(session):
            return compile_fx_inner(gm, example_inputs, **kwargs)

    install()
    hits = _graph_cache_hits()
    with activate(session), caches:
        compiled = compile_fx(gm, example_inputs, inner_compile=inner_compile, config_patches=patches or None)
    if _graph_cache_hits() != hits:
        session.on_graph_cache_hit()
    return compiled


def _graph_cache_hits() -> int:
    """Hits of Inductor's FX graph cache and AOTAutograd's cache so far in this process (Dynamo's counters)."""
    try:
        from torch._dynamo.utils import counters

        return counters["inductor"]["fxgraph_cache_hit"] + counters["aot_autograd"]["autograd_cache_hit"]
    except (ImportError, AttributeError, KeyError, TypeError):  # moved in a later torch: no notice, no failure
        return 0


# --------------------------------------------------------------------------------------------- Triton heuristics

# Names a Triton kernel's heuristic decorator may use in its arguments (Inductor writes these hint types there).
_DECORATOR_NAMES = ("DeviceProperties", "ReductionHint", "TileHint", "AutotuneHint")


def _decorator_namespace() -> dict[str, Any]:
    from torch._inductor.runtime import hints

    return {name: getattr(hints, name) for name in _DECORATOR_NAMES} | {"set": set}


def _literal_argument(text: str, namespace: dict[str, Any]) -> Any:
    """Evaluate one decorator argument as Inductor wrote it: literals, the hint types' members and constructors,
    ``set()``. Anything else (attribute chains off other objects, other calls) is refused: the source may come from
    a task file, and this must never run code."""
    import ast

    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in namespace:
            raise ValueError(f"name {node.id!r} is not allowed in a heuristic's arguments")
        if isinstance(node, ast.Attribute) and not (isinstance(node.value, ast.Name) and node.attr.isupper()):
            raise ValueError("only a hint type's members may be named in a heuristic's arguments")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and not node.args):
            raise ValueError("only a hint type's constructor with keywords, or set(), may be called")
        if not isinstance(node, (ast.Expression, ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Constant, ast.Name,
                                 ast.Attribute, ast.Call, ast.keyword, ast.Load, ast.UnaryOp, ast.USub)):
            raise ValueError(f"{type(node).__name__} is not allowed in a heuristic's arguments")
    return eval(compile(tree, "<heuristic arguments>", "eval"), {"__builtins__": {}}, namespace)  # noqa: S307


def inductor_heuristic_configs(kind: str, arguments: dict[str, str], *, max_autotune: bool) -> list[dict[str, int]]:
    """The launch configurations Inductor's own Triton heuristic ``kind`` ("pointwise", "reduction",
    "persistent_reduction") gives a kernel whose decorator had these keyword ``arguments`` (their source text):
    each as block sizes plus ``num_warps`` and ``num_stages``. With ``max_autotune``, the wider set that
    max-autotune benchmarks. Empty when this torch's heuristic cannot be asked (a log line says why): the tuner
    then starts from its own grid."""
    import inspect

    from torch._inductor.runtime import triton_heuristics

    heuristic = getattr(triton_heuristics, kind, None)
    if heuristic is None or "return_configs" not in inspect.signature(heuristic).parameters:
        log.info("aikg: torch %s: triton_heuristics.%s cannot return its configurations", torch.__version__, kind)
        return []
    namespace = _decorator_namespace() | {"__file__": "aikg_heuristic.py"}
    try:
        kwargs = {name: _literal_argument(text, namespace) for name, text in arguments.items()}
        kwargs["inductor_meta"] = {**kwargs.get("inductor_meta", {}), "max_autotune": max_autotune,
                                   "max_autotune_pointwise": max_autotune}
        configs = heuristic(**kwargs, return_configs=True)
    except Exception as err:  # noqa: BLE001 - a heuristic that moved must not stop the search
        log.info("aikg: Inductor's %s heuristic gave no configurations here: %s: %s", kind, type(err).__name__, err)
        return []
    return [{**config.kwargs, "num_warps": config.num_warps, "num_stages": config.num_stages} for config in configs]


def inductor_block_limits() -> dict[str, int]:
    """The largest size Inductor lets each block parameter take ("XBLOCK" -> 4096, "R0_BLOCK" -> ...), as its
    coordinate descent bounds them."""
    from torch._inductor.runtime.hints import TRITON_MAX_BLOCK

    return {f"{prefix.rstrip('_')}{'_' if prefix.endswith('_') else ''}BLOCK": size
            for prefix, size in TRITON_MAX_BLOCK.items()}


# ---------------------------------------------------------------------------------- CUDA IPC for the verifier
# The judge shares one CUDA allocation with a candidate runner (verify.shared). torch.multiprocessing's reduction
# is how torch itself passes CUDA tensors between processes; its rebuild arguments travel here as plain data (hex
# and ints in JSON), never as a pickle from the other process.


def cuda_ipc_export(base: torch.Tensor) -> dict[str, Any]:
    """The IPC description of ``base`` (a contiguous uint8 CUDA tensor owning its allocation) as JSON data."""
    from torch.multiprocessing.reductions import reduce_tensor

    _, args = reduce_tensor(base)
    (_, size, stride, offset, _, dtype, device, handle, storage_bytes, storage_offset, _, ref_handle, ref_offset,
     event_handle, event_sync) = args
    assert dtype == torch.uint8
    return {"size": list(size), "stride": list(stride), "offset": offset, "device": device,
            "handle": handle.hex(), "storage_bytes": storage_bytes, "storage_offset": storage_offset,
            "ref_handle": ref_handle.hex(), "ref_offset": ref_offset,
            "event_handle": event_handle.hex() if event_handle else None, "event_sync": event_sync}


def cuda_ipc_import(data: dict[str, Any]) -> torch.Tensor:
    """The runner's view of a tensor ``cuda_ipc_export`` described."""
    from torch.multiprocessing.reductions import rebuild_cuda_tensor

    event = bytes.fromhex(data["event_handle"]) if data["event_handle"] else None
    return rebuild_cuda_tensor(torch.Tensor, torch.Size(data["size"]), tuple(data["stride"]), int(data["offset"]),
                               torch.UntypedStorage, torch.uint8, int(data["device"]),
                               bytes.fromhex(data["handle"]), int(data["storage_bytes"]),
                               int(data["storage_offset"]), False, bytes.fromhex(data["ref_handle"]),
                               int(data["ref_offset"]), event, bool(data["event_sync"]))


def precompile_triton_kernel(launch: Callable[..., None]) -> None:
    """Compile every configuration of a kernel ``load_triton_kernel`` loaded on a GPU (ptxas, the launcher stub), so
    that running it later needs no compiler process (the candidate runner's sandbox forbids them)."""
    kernel = getattr(launch, "autotuner", None)
    if kernel is not None and hasattr(kernel, "precompile"):
        kernel.precompile()
