"""Static guards: the proofs a candidate must pass before anything loads it.

Accepted kernels later run unsandboxed in the user's process, so these are allowlists, not blocklists. Source
checks run first (cheap, no compiler); for C++ the compiled object is then proved too (``objcheck``: what it links
against, what runs at load, what state it keeps). Each rejection names its rule, prefixed ``guard:``:

- ``guard:signature``     the kernel's parameter list (and, for Triton, decorator kind) differs from the baseline's
- ``guard:include``       C++ ``#include`` of anything but Inductor's ``cpp_prefix.h``; Python import off the allowlist
- ``guard:preprocessor``  C++ preprocessor directives other than that include and allowed pragmas (macros hide names)
- ``guard:pragma``        a ``#pragma`` / ``_Pragma`` off the allowlist (OpenMP loops, GCC unroll/ivdep)
- ``guard:asm``           inline assembly
- ``guard:torch``         calls into torch / ATen / the Python C API instead of computing in the kernel
- ``guard:system``        files, network, processes, signals, dynamic loading, memory mapping, threads, environment
- ``guard:eval``          ``eval``/``exec``/``compile``/``__import__`` and reflection that reaches them
- ``guard:ast``           a Triton module construct outside what Inductor's own kernel modules contain
- ``guard:symbol``        the compiled C++ object needs a symbol off the allowlist, or exports one
- ``guard:static-state``  the compiled C++ object has writable static or thread-local data of its own
- ``guard:load-time-code`` C++ constructors/destructors (source attributes or, in the object, load-time sections
                          beyond what Inductor's header registers)
- ``guard:syntax``        a Triton source that does not parse
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import re

from ..task import KernelTask

log = logging.getLogger(__name__)

KERNEL_NAME = "Placeholder.KERNEL_NAME"


@dataclasses.dataclass(frozen=True)
class GuardViolation:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class GuardRejected(Exception):
    """A static proof failed: the candidate must not be loaded. Carries the violation (rule and message)."""

    def __init__(self, violation: GuardViolation) -> None:
        super().__init__(str(violation))
        self.violation = violation

    @property
    def rule(self) -> str:
        return self.violation.rule


def raise_if(violation: GuardViolation | None) -> None:
    if violation is not None:
        raise GuardRejected(violation)


from .guards_cpp import check_cpp  # noqa: E402 - the per-language checks build on the records above


def check(task: KernelTask, source: str) -> GuardViolation | None:
    """The first rule ``source`` breaks as a replacement for ``task``'s kernel, or None.

    For C++ this compiles the source (the compiler is the only process started; nothing of the candidate runs)
    and proves the object as well: see ``dsl.cpp_cpu.CppCpuAdapter.prepare``.
    """
    if task.dsl == "cpp-cpu":
        return check_cpp(task.source, source) or _prove_cpp_object(task, source)
    if task.dsl.startswith("triton"):
        return check_triton(task.source, source)
    return GuardViolation("guard:dsl", f"no guards for DSL {task.dsl!r}; refusing to run unchecked code")


# ------------------------------------------------------------------------------------------------------- C++


def _prove_cpp_object(task: KernelTask, source: str) -> GuardViolation | None:
    from ..dsl.cpp_cpu import ADAPTER

    try:
        ADAPTER.prepare(task, source)
    except GuardRejected as rejected:
        return rejected.violation
    except Exception as err:  # noqa: BLE001 - what does not compile is never loaded; the compile stage reports it
        log.debug("aikg: no object to prove, the candidate does not compile: %s", err)
    return None

# ---------------------------------------------------------------------------------------------------- Triton

# What Inductor's Triton kernels import (TritonKernel.gen_common_triton_imports), and math.
_PY_ALLOWED_MODULES = re.compile(
    r"^(?:triton|triton\.language(?:\.extra(?:\.\w+)*)?|triton\.compiler\.compiler|math"
    r"|torch\._inductor\.runtime(?:\.\w+)*)$"
)
_PY_EVAL = {"eval", "exec", "compile", "__import__", "globals", "locals", "vars", "getattr", "setattr", "delattr",
            "__builtins__", "breakpoint"}
_PY_SYSTEM = {"open", "input", "exit", "quit", "os", "sys", "subprocess", "socket", "shutil", "pathlib", "ctypes"}
_PY_ALLOWED_DUNDERS = {"__file__", "__name__"}
# Inductor's runtime modules import os, torch and more themselves: only the names its kernels import may be taken
# from them, and no attribute may reach through a module to os, torch, ... (``triton_heuristics.os.system``).
_PY_RUNTIME_NAMES = {"triton_helpers", "triton_heuristics", "libdevice", "math", "AutotuneHint", "ReductionHint",
                     "TileHint", "DeviceProperties"}
_PY_SYSTEM_ATTRS = _PY_SYSTEM | {"system", "popen", "environ", "spawn", "builtins", "importlib", "remove", "unlink",
                                 "rmdir", "rename", "kill", "fork", "execv", "execve", "putenv"}
_PY_PLACEHOLDER = "aikg_kernel"


def _parse(source: str) -> ast.Module:
    return ast.parse(source.replace(KERNEL_NAME, _PY_PLACEHOLDER))


def _kernel_def(module: ast.Module) -> ast.FunctionDef | None:
    defs = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == _PY_PLACEHOLDER]
    return defs[0] if len(defs) == 1 else None


_FIXED_CONFIG = "triton_heuristics.fixed_config"


def _decorator_kinds(fn: ast.FunctionDef) -> list[str]:
    return [ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list]


def check_triton(baseline: str, source: str) -> GuardViolation | None:
    try:
        module = _parse(source)
    except SyntaxError as err:
        return GuardViolation("guard:syntax", f"does not parse: {err}")
    for node in ast.walk(module):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level:
                return GuardViolation("guard:include", "relative imports are not allowed")
            for name in modules:
                if not _PY_ALLOWED_MODULES.match(name) or isinstance(node, ast.Import) and name.startswith("torch"):
                    return GuardViolation("guard:include", f"import of {name!r} is not on the allowlist")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "torch" or alias.name in _PY_SYSTEM or (
                            (node.module or "").startswith("torch") and alias.name not in _PY_RUNTIME_NAMES):
                        return GuardViolation("guard:include", f"import of {alias.name!r} from {node.module!r} is "
                                                               "not on the allowlist")
        elif isinstance(node, ast.Name):
            if node.id == "torch":
                return GuardViolation("guard:torch", "uses torch: kernels compute themselves, not via torch")
            if node.id in _PY_EVAL:
                return GuardViolation("guard:eval", f"uses {node.id}")
            if node.id in _PY_SYSTEM:
                return GuardViolation("guard:system", f"uses {node.id}")
            if node.id.startswith("__") and node.id not in _PY_ALLOWED_DUNDERS:
                return GuardViolation("guard:eval", f"uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            return GuardViolation("guard:eval", f"reflection through .{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "torch":
            return GuardViolation("guard:torch", f"reaches torch through {ast.unparse(node)}")
        elif isinstance(node, ast.Attribute) and node.attr in _PY_SYSTEM_ATTRS:
            return GuardViolation("guard:system", f"uses {ast.unparse(node)}")
    want_fn, got_fn = _kernel_def(_parse(baseline)), _kernel_def(module)
    if got_fn is None or want_fn is None:
        return GuardViolation("guard:signature", f"expected exactly one top-level def {KERNEL_NAME}(...)")
    if ast.dump(got_fn.args) != ast.dump(want_fn.args):
        return GuardViolation("guard:signature", f"parameters ({ast.unparse(got_fn.args)}) differ from the "
                                                 f"baseline's ({ast.unparse(want_fn.args)})")
    got, want = _decorator_kinds(got_fn), _decorator_kinds(want_fn)
    # A candidate may pin one launch configuration instead of the baseline's heuristic (the tuner's output).
    allowed = [want, [_FIXED_CONFIG, *want[1:]]]
    if got not in allowed:
        return GuardViolation("guard:signature", f"decorators {got} differ from the baseline's {want} "
                                                 f"(or {_FIXED_CONFIG} in place of its heuristic)")
    return None
