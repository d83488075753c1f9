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
CPP_ALLOWED_INCLUDE = "#include <torch/csrc/inductor/cpp_prefix.h>"


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

_CPP_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_CPP_LITERAL = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
_CPP_SIGNATURE = re.compile(r'extern\s+"C"\s+(?:\w+\s+)*?void\s+' + re.escape(KERNEL_NAME) + r"\s*\(([^)]*)\)")

# Any mention of these is rejected, called or not (taking their address is as good as calling them).
_CPP_BANNED_ANYWHERE: dict[str, tuple[str, ...]] = {
    "guard:asm": ("asm", "__asm", "__asm__"),
    "guard:system": (
        "fopen", "freopen", "fdopen", "tmpfile", "FILE", "ofstream", "ifstream", "fstream", "filebuf", "filesystem",
        "system", "popen", "pclose", "fork", "vfork", "execl", "execlp", "execle", "execv", "execvp", "execvpe",
        "execve", "fexecve", "posix_spawn", "posix_spawnp", "dlopen", "dlsym", "dlclose", "dlmopen", "mmap",
        "munmap", "mprotect", "syscall", "ptrace", "socket", "socketpair", "getaddrinfo", "gethostbyname",
        "pthread_create", "getenv", "setenv", "putenv", "unsetenv", "sigaction", "environ",
    ),
    "guard:torch": ("Tensor", "TensorBase", "IValue", "Dispatcher", "OperatorHandle", "Scalar"),
    "guard:load-time-code": ("constructor", "destructor", "init_priority"),
}
# Common words that are only suspicious as calls or qualified names (a variable may well be called ``read``).
_CPP_BANNED_CALLS = (
    "open", "openat", "creat", "read", "write", "pread", "pwrite", "close", "unlink", "remove", "rename", "mkdir",
    "rmdir", "chmod", "chown", "truncate", "ftruncate", "ioctl", "fcntl", "dup", "dup2", "pipe", "connect", "bind",
    "listen", "accept", "send", "sendto", "recv", "recvfrom", "kill", "signal", "thread", "async", "sleep",
    "usleep", "nanosleep", "printf", "fprintf", "puts", "fputs", "fwrite", "fread", "fgets", "scanf",
)
_CPP_BANNED_CALL = re.compile(r"(?:::|\b)(" + "|".join(_CPP_BANNED_CALLS) + r")\s*\(|::\s*(" +
                              "|".join(_CPP_BANNED_CALLS) + r")\b")
# ATen's vector types and the scalar types kernels use are fine; any other at::/torch:: name is torch compute.
_CPP_TORCH = re.compile(r"\b(?:torch|aoti_torch\w*|Py[A-Z]\w*)\b|\bat\s*::\s*(?!vec\b|Half\b|BFloat16\b|Float8_\w+\b)"
                        r"\w+|\bc10\s*::\s*(?:Dispatcher|impl|IValue)\b")


def _strip_cpp(source: str) -> str:
    """Source without comments and with every string/char literal emptied (``extern "C"`` keeps its quotes)."""
    without_comments = _CPP_COMMENT.sub(" ", source)
    return _CPP_LITERAL.sub(lambda m: m.group(0)[0] * 2 if m.group(0) != '"C"' else '"C"', without_comments)


def _cpp_params(source: str) -> list[str] | None:
    found = _CPP_SIGNATURE.findall(source)
    if len(found) != 1:
        return None
    return [" ".join(p.replace("*", " * ").split()) for p in found[0].split(",")]


def check_cpp(baseline: str, source: str) -> GuardViolation | None:
    code_lines = []
    for line in _strip_cpp(source).splitlines():
        stripped = line.strip()
        if not stripped.startswith(("#", "%:", "??=")):
            code_lines.append(line)
            continue
        directive = " ".join(stripped.split())
        if directive == CPP_ALLOWED_INCLUDE or re.match(r"#\s*pragma\b", stripped):
            continue
        if re.match(r"(#|%:|\?\?=)\s*include", stripped):
            return GuardViolation("guard:include", f"only {CPP_ALLOWED_INCLUDE} may be included, not {directive!r}")
        return GuardViolation("guard:preprocessor", f"directive not allowed: {directive!r}")
    # Checked without preprocessor lines: the allowed include names torch itself.
    code = "\n".join(code_lines)
    if "%:" in code or "??=" in code or "_Pragma" in code:
        return GuardViolation("guard:preprocessor", "digraph/trigraph preprocessor tokens or _Pragma are not allowed")
    identifiers = set(re.findall(r"\b[A-Za-z_]\w*\b", code))
    for rule, names in _CPP_BANNED_ANYWHERE.items():
        hit = sorted(identifiers.intersection(names))
        if hit:
            return GuardViolation(rule, f"uses {', '.join(hit)}")
    if match := _CPP_BANNED_CALL.search(code):
        return GuardViolation("guard:system", f"uses {match.group(1) or match.group(2)}")
    if match := _CPP_TORCH.search(code):
        return GuardViolation("guard:torch", f"uses {match.group(0)!r}: kernels compute themselves, not via torch")
    want, got = _cpp_params(_strip_cpp(baseline)), _cpp_params(code)
    if got is None:
        return GuardViolation("guard:signature", f'expected exactly one extern "C" void {KERNEL_NAME}(...)')
    if want != got:
        return GuardViolation("guard:signature", f"parameters ({', '.join(got)}) differ from the baseline's "
                                                 f"({', '.join(want or [])})")
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
