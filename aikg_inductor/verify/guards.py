"""Static guards: the proofs a candidate must pass before anything loads it.

Accepted kernels later run unsandboxed in the user's process, so these are allowlists, not blocklists. Source
checks run first (cheap, no compiler); for C++ the compiled object is then proved too (``dsl.cpp_objcheck``: what it links
against, what runs at load, what state it keeps). Each rejection names its rule, prefixed ``guard:``:

- ``guard:signature``     the kernel's parameter list (and, for Triton, decorator kind) differs from the baseline's
- ``guard:include``       C++ ``#include`` of anything but Inductor's ``cpp_prefix.h``; Python import off the allowlist
- ``guard:preprocessor``  C++ preprocessor directives other than that include and allowed pragmas (macros hide names)
- ``guard:pragma``        a ``#pragma`` / ``_Pragma`` off the allowlist (OpenMP loops, GCC unroll/ivdep)
- ``guard:asm``           inline assembly
- ``guard:clock``         C++ intrinsics that read a clock or a hardware random source (timing-loop detection)
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

import logging

from ..dsl.cpp_guards import check_cpp
from ..dsl.triton_guards import check_triton
from ..dsl.violations import GuardRejected, GuardViolation
from ..task import KernelTask

log = logging.getLogger(__name__)


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


# The compile the proof needs, bounded like the verifier's own compile stage.
PROOF_COMPILE_TIMEOUT_S = 180.0


def _prove_cpp_object(task: KernelTask, source: str) -> GuardViolation | None:
    from ..dsl.cpp_cpu import ADAPTER
    from ..torch_internals.kernels import CppBuildTimeout

    try:
        ADAPTER.prepare(task, source, PROOF_COMPILE_TIMEOUT_S)
    except GuardRejected as rejected:
        return rejected.violation
    except CppBuildTimeout as err:  # what cannot be compiled in time cannot be proved
        return GuardViolation("compile-timeout", f"compiling the candidate for its proof: {err}")
    except Exception as err:  # noqa: BLE001 - what does not compile is never loaded; the compile stage reports it
        log.debug("aikg: no object to prove, the candidate does not compile: %s", err)
    return None
