"""Static guards: the proofs a candidate must pass before anything loads it.

Accepted kernels later run unsandboxed in the user's process, so these are allowlists, not blocklists. Each DSL's
adapter holds its checks (``dsl/cpp_guards.py``, ``dsl/cpp_objcheck.py``, ``dsl/triton_guards.py``,
``dsl/triton_launcher_guards.py``); this module asks the task's adapter. Source checks run first (cheap, no
compiler); for C++ the compiled object is then proved too (what it links against, what runs at load, what state it
keeps). Each rejection names its rule, prefixed ``guard:``:

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
- ``guard:text``          control characters (but newline, tab, CR LF) or bidirectional controls anywhere in the source:
                          a terminal or editor would show other code than the compiler reads (``dsl/source_text.py``)
"""

from __future__ import annotations

from ..dsl import UnknownDslError, adapter_for
from ..dsl.violations import GuardViolation
from ..task import KernelTask


def check(task: KernelTask, source: str) -> GuardViolation | None:
    """The first rule ``source`` breaks as a replacement for ``task``'s kernel, or None: the DSL's adapter's checks
    (``DslAdapter.check_source``). For C++ this compiles the source (the compiler is the only process started;
    nothing of the candidate runs) and proves the object as well."""
    try:
        adapter = adapter_for(task.dsl)
    except UnknownDslError:
        return GuardViolation("guard:dsl", f"no guards for DSL {task.dsl!r}; refusing to run unchecked code")
    return adapter.check_source(task, source)
