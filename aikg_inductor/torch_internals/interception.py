"""The Inductor hook: every fused kernel's source, seen after fusion and before compilation, and maybe replaced.

It registers Scheduling subclasses for ``cpu`` (C++ kernels; Triton kernels under Triton's interpreter) and ``cuda``
(Triton kernels) whose ``define_kernel`` turns each kernel into a ``KernelTask`` and lets the active ``KernelSession``
supply a replacement. It also registers a no-op custom pass whose ``uuid()`` carries the session's fingerprint into
Inductor's FX graph cache key.

Outside an ``activate()`` block (any compile that is not through the ``aikg`` backend) everything here defers to
Inductor unchanged, unless a serving plugin installed a session for the whole process (``install_session``).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import os
from typing import Any, Callable, Iterator, Protocol, Sequence

import torch
from torch._inductor import config as inductor_config
from torch._inductor.codegen import common as codegen_common
from torch._inductor.codegen.cpp import CppScheduling
from torch._inductor.codegen.cuda_combined_scheduling import CUDACombinedScheduling
from torch._inductor.codegen.triton import TritonScheduling
from torch._inductor.custom_graph_pass import CustomGraphModulePass
from torch._inductor.virtualized import V

from ..options import OptionsError
from ..task import KernelArg, KernelTask, TensorLayout, role_of, task_key
from .int_ranges import int_range_of
from .kernels import device_arch, localise_source, normalise_source, triton_version_or_none

log = logging.getLogger(__name__)


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
# installed for the whole process instead; an ``activate()`` block (the aikg backend's own compiles) still takes
# precedence inside it. (Not the only process-wide state: the verifier's pools, ``verify.pool._POOLS``, and the LLM
# request gate, ``agents.llm_client._request_gate``, are others.)
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


def _origin_nodes(nodes: list[Any]) -> set[Any]:
    """The post-grad FX nodes the kernel computes (with their ``meta["val"]``)."""
    return {origin for node in nodes for origin in getattr(node.node, "origins", ()) or ()
            if origin.op == "call_function"}


def _origins(nodes: list[Any]) -> tuple[str, ...]:
    return tuple(sorted({str(origin.target) for origin in _origin_nodes(nodes)}))


def _is_integer(dtype_name: str) -> bool:
    dtype = getattr(torch, dtype_name, None)
    return isinstance(dtype, torch.dtype) and dtype != torch.bool and not dtype.is_floating_point \
        and not dtype.is_complex


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


def _build_task(
    source: str,
    nodes: Sequence[Any],
    params: Sequence[str],
    call_args: Sequence[Any],
    ctypes: Sequence[str | None],
    size_exprs: dict[str, Any],
    dsl: str,
) -> KernelTask:
    device = V.graph.get_current_device_or_throw()
    kernel_nodes = _scheduler_nodes(nodes)
    origins = _origin_nodes(kernel_nodes)
    args, dynamic, exprs, bound_exprs = [], False, [], []

    def size_of(size: Any) -> tuple[int, Any]:
        """A size an index range is bounded by: its value and, where symbolic, its expression."""
        expr = size.node.expr if isinstance(size, torch.SymInt) else size
        if _is_number(expr):
            return int(expr), None
        bound_exprs.append(expr)
        return _hint(expr), expr

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
        layout = _layout_of(buffer)
        int_range = int_range_of(buffer, origins, size_of) if role == "in" and _is_integer(layout.dtype) else None
        args.append(KernelArg(param, buffer, role, layout=layout, live=live, ctype=ctype, int_range=int_range))
        exprs.append(buffer)
    symbols: tuple[tuple[str, int], ...] = ()
    if dynamic:
        args, symbols = _with_symbolic_sizes(args, exprs, bound_exprs)
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


def _with_symbolic_sizes(args: list[KernelArg], exprs: list[Any], bound_exprs: list[Any],
                         ) -> tuple[list[KernelArg], tuple[tuple[str, int], ...]]:
    """The arguments with their size expressions recorded (layouts of tensors, values of sizes) and the symbols
    those and the integer inputs' bounds (``bound_exprs``) use, with the values Inductor assumed: what
    ``evaluate_size`` needs to place the kernel at other sizes."""
    import sympy

    free: set[Any] = set()
    for bound in bound_exprs:
        free.update(sympy.sympify(bound).free_symbols)

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
    return _build_task(src_code, nodes, params, call_args, arg_types, size_exprs, "cpp-cpu")


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
    if V.graph.get_current_device_or_throw().type == "cpu":
        # Inductor's Triton for CPU tensors (``triton_tasks_on_cpu``) is the CUDA module form but for its prologue:
        # given the CUDA one, it is a triton-cuda task that Triton's interpreter runs as it runs a GPU kernel.
        src_code = src_code.replace(_CPU_PROLOGUE, _GPU_PROLOGUE, 1)
    return _build_task(src_code, node_schedule, params, call_args, [None] * len(params), size_exprs, "triton-cuda")


_CPU_PROLOGUE = "triton_helpers.set_driver_to_cpu()"
_GPU_PROLOGUE = "triton_helpers.set_driver_to_gpu()"


@contextlib.contextmanager
def triton_tasks_on_cpu() -> Iterator[None]:
    """Inside this block Inductor emits Triton for CPU tensors and runs it under Triton's interpreter, and the hook
    turns each kernel into a triton-cuda task on the CPU: tasks for the verifier's interpreter path, captured live on
    a machine without a GPU. The process must have started with ``TRITON_INTERPRET=1`` (Triton decides at import
    whether its kernels, Inductor's helpers among them, are interpreted); kernels that call libdevice also need
    ``dsl.triton_interpret.interpretable_libdevice()``. Not for serving: the kernels run at the interpreter's speed."""
    import torch.utils._triton as triton_utils

    if os.environ.get("TRITON_INTERPRET") != "1":
        raise RuntimeError("Triton tasks on CPU need TRITON_INTERPRET=1 from the start of the process")
    hash_with_backend = triton_utils.triton_hash_with_backend
    # Without a GPU Triton has no active driver, which only Inductor's autotuning cache key (the backend hash) asks
    # for; the interpreter needs none.
    triton_utils.triton_hash_with_backend = lambda: "triton-interpreter"
    try:
        with inductor_config.patch(cpu_backend="triton"):
            yield
    finally:
        triton_utils.triton_hash_with_backend = hash_with_backend


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


def kernel_object_refused() -> str | None:
    """Why the kernel being defined cannot be a Python object of ours (None: it can). Inductor's Python wrapper calls
    ``<name>.run(*args, stream=...)`` on whatever the kernel's module binds under its name; the C++ wrapper
    (``cpp_wrapper``, AOTInductor, whose first pass is a Python one) launches the compiled kernel binary itself, and
    the FX wrapper and multi-kernel dispatch take Inductor's ``CachingAutotuner`` apart."""
    graph = V.graph
    if graph.cpp_wrapper or graph.aot_mode or inductor_config.cpp_wrapper:
        return "Inductor's C++ wrapper (cpp_wrapper, AOTInductor) launches the kernel binary itself"
    if graph.fx_wrapper:
        return "Inductor's FX wrapper takes only its own Triton kernel objects"
    if inductor_config.triton.multi_kernel:
        return "Inductor's multi-kernel dispatch (triton.multi_kernel) takes only its own Triton kernel objects"
    return None


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


# Our scheduling for each (device type, Inductor's backend for it) we hook; the config option naming that backend.
_OURS = {("cpu", "cpp"): AikgCppScheduling, ("cpu", "triton"): AikgTritonScheduling,
         ("cuda", "triton"): AikgCudaScheduling}
_BACKEND_OPTION = {"cpu": "cpu_backend", "cuda": "cuda_backend"}


def _backend_for(device_type: str) -> str:
    return getattr(inductor_config, _BACKEND_OPTION[device_type])


def _ours_for(device_type: str) -> Any:
    """Our scheduling for the backend Inductor has configured for ``device_type`` now, or None (not ours to hook:
    halide, pallas, ...; CPU Triton outside the interpreter)."""
    backend = _backend_for(device_type)
    if (device_type, backend) == ("cpu", "triton") and os.environ.get("TRITON_INTERPRET", "0") != "1":
        return None
    return _OURS.get((device_type, backend))


def install() -> None:
    """Register our schedulings and cache-key pass for cpu and cuda. Idempotent; inert outside ``activate()``."""
    codegen_common.init_backend_registration()
    for device in _BACKEND_OPTION:
        current = codegen_common.device_codegens.get(device)
        if current is None or getattr(current.scheduling, "_aikg", False):
            continue
        inductor_scheduling = current.scheduling

        def scheduling(scheduler: Any, device: str = device, inductor_scheduling: Any = inductor_scheduling) -> Any:
            ours = _ours_for(device)
            return inductor_scheduling(scheduler) if ours is None else ours(scheduler)

        scheduling._aikg = True  # type: ignore[attr-defined]
        codegen_common.register_backend_for_device(
            device,
            scheduling,
            current.wrapper_codegen,
            current.cpp_wrapper_codegen,
            getattr(current, "fx_wrapper_codegen", None),
            device_custom_pass=CacheKeyPass(),
        )


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
