"""C++ kernels on CPU, compiled by Inductor's own C++ toolchain (the same flags and headers as the baseline).

Loading is two steps so that a verifier can prove before anything runs: ``prepare`` checks the source, compiles it
(the compiler is the only process it starts) and proves the compiled kernel object (``cpp_objcheck``), raising
``GuardRejected``; it runs no candidate code. ``load_prepared`` only opens the built library (a dlopen).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any, Callable

from ..torch_internals import kernels
from ..task import KernelTask
from . import Signature, wall_median_seconds
from .cpp_guards import ALLOWED_INCLUDE, check_cpp, thread_cap
from .cpp_objcheck import check_object, read_object, stack_allowance
from .cpp_stack_fill import stack_fill
from .cpp_workspace import WORKSPACE_PROBE, with_workspace
from .violations import GuardRejected, GuardViolation, raise_if

log = logging.getLogger(__name__)

# A kernel that is nothing but Inductor's header: a reference for what the header alone puts into an object
# (its iostream initialiser, its inline globals).
HEADER_PROBE = ('#include <torch/csrc/inductor/cpp_prefix.h>\n'
                'extern "C" void Placeholder.KERNEL_NAME(float* out_ptr0) { out_ptr0[0] = 1.0f; }\n')


# A parallel region run once, each thread taking scratch as Inductor's reductions do (since review 14 served by
# ``cpp_workspace`` as a candidate's is, not by the allocator): OpenMP keeps the thread team it creates then, and
# each thread's allocator state, so a candidate's first call does not look like a kernel keeping heap memory. Each
# thread writes its block's address into its own output element, so the scratch is not elided. Proved as its own
# baseline.
_PROBE_THREADS = 1024  # output elements: one per thread, more than any machine here runs
_PARALLEL_PROBE = ('#include <torch/csrc/inductor/cpp_prefix.h>\n'
                   'extern "C" void Placeholder.KERNEL_NAME(float* out_ptr0)\n{\n'
                   '    #pragma omp parallel\n    { auto scratch = std::make_unique<float[]>(16);\n'
                   f'      const int thread = omp_get_thread_num();\n'
                   f'      if (thread < {_PROBE_THREADS}) out_ptr0[thread] = static_cast<float>(\n'
                   '          reinterpret_cast<std::uintptr_t>(scratch.get()) & 15u); }\n}\n')
# The compile the object proof of ``check_source`` needs, bounded like the verifier's own compile stage.
PROOF_COMPILE_TIMEOUT_S = 180.0
# extern "C" <return type> <name>(<params>): the name may be Inductor's placeholder with a dot in it.
_SIGNATURE = re.compile(r'extern\s+"C"\s+[\w\s]*?\bvoid\s+([\w.]+)\s*\(([^)]*)\)', re.DOTALL)


@dataclasses.dataclass(frozen=True)
class PreparedCpp:
    """A C++ kernel that passed the source guards and the object proof, built and not loaded."""

    task_key: str
    build: kernels.CppBuild


class CppCpuAdapter:
    device_type = "cpu"
    # Compiled code can allocate heap memory and keep it past a call: the judge checks every checked call for it.
    keeps_heap = True
    device_note = ""
    language = "cpp"
    fence_tags = frozenset({"", "cpp", "c++", "cxx", "cc", "c"})
    entry_point = 'an extern "C" function'
    contract_section = "C++ candidates"
    config_tunable = False
    runner_owns_inductor_cache = False  # only the compiler writes Inductor's cache, before the lockdown

    def parse_signature(self, source: str) -> Signature | None:
        match = _SIGNATURE.search(source)
        if not match:
            return None
        params = []
        for raw in match.group(2).split(","):
            raw = " ".join(raw.split())
            if not raw:
                continue
            # "const float* in_ptr0", "const float *in_ptr0", "int64_t ks0"
            name_match = re.search(r"[\w]+$", raw)
            if not name_match:
                return None
            ctype = raw[: name_match.start()].replace(" *", "*").strip()
            params.append((ctype, name_match.group(0)))
        return Signature(match.group(1), tuple(params))

    def rename_entry_point(self, source: str, name: str) -> str:
        match = _SIGNATURE.search(source)
        assert match is not None
        start, end = match.span(1)
        return source[:start] + name + source[end:]

    def restore_prelude(self, baseline: str, source: str) -> tuple[str, list[str]]:
        if ALLOWED_INCLUDE in baseline and ALLOWED_INCLUDE not in source:
            return ALLOWED_INCLUDE + "\n" + source, ["cpp_prefix.h include added"]
        return source, []

    def own_launcher(self, source: str) -> bool:
        return False

    def source_for_inductor(self, task: KernelTask, source: str) -> str:
        # The entry point Inductor's wrapper calls, under the loader's name, compiled from the text ``prepare`` proved.
        return with_workspace(source)

    def check_source(self, task: KernelTask, source: str) -> GuardViolation | None:
        """The source checks, then (compiling the source; the compiler is the only process started) the proof on
        the compiled object: see ``prepare``."""
        return check_cpp(task.source, source) or self._prove_object(task, source)

    def _prove_object(self, task: KernelTask, source: str) -> GuardViolation | None:
        try:
            self.prepare(task, source, PROOF_COMPILE_TIMEOUT_S)
        except GuardRejected as rejected:
            return rejected.violation
        except kernels.CppBuildTimeout as err:  # what cannot be compiled in time cannot be proved
            return GuardViolation("compile-timeout", f"compiling the candidate for its proof: {err}")
        except Exception as err:  # noqa: BLE001 - what does not compile is never loaded; the compile stage reports it
            log.debug("aikg: no object to prove, the candidate does not compile: %s", err)
        return None

    def prepare(self, task: KernelTask, source: str, timeout_s: float | None = None) -> PreparedCpp:
        """Check, compile and prove ``source`` as a replacement for ``task``'s kernel; raises GuardRejected, or
        kernels.CppBuildTimeout / a compile error. ``timeout_s`` bounds each compiler run."""
        raise_if(check_cpp(task.source, source))
        # What Inductor's own code puts into an object compiled this way (its heap scratch served as a candidate's
        # is): the task's baseline and the bare header; and what aikg's workspace compiles to.
        baseline = kernels.build_cpp_kernel(with_workspace(task.source), self._ctypes(task), timeout_s)
        header = kernels.build_cpp_kernel(HEADER_PROBE, ["float*"], timeout_s)
        references = [read_object(baseline.kernel_object), read_object(header.kernel_object)]
        # The glue fills all the stack the proof lets the kernel use before every call (the baseline's, loaded
        # through here by the judge, alike): nothing an earlier call left there survives.
        hook = stack_fill(stack_allowance(references), thread_cap(task.source))
        build = kernels.build_cpp_kernel(with_workspace(source), self._ctypes(task), timeout_s, hook)
        workspace = kernels.build_cpp_kernel(with_workspace(WORKSPACE_PROBE), ["float*"], timeout_s).kernel_object
        raise_if(check_object(build.kernel_object, references, build.glue_object, workspace))
        return PreparedCpp(task.key, build)

    def load_prepared(self, prepared: PreparedCpp) -> Callable[..., None]:
        """Open a prepared kernel in this process: a dlopen, no compiler and no other process."""
        return kernels.load_cpp_library(prepared.build)

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        return self.load_prepared(self.prepare(task, source))

    def baseline_variant(self, task: KernelTask, source: str) -> bool:
        return False  # a C++ kernel has no launch parameters apart from its code

    def warm(self) -> None:
        # The header probe (every candidate's proof compiles it), then a parallel region run once: OpenMP keeps the
        # thread team it allocates then, and each thread's allocator state (``_PARALLEL_PROBE``), so a candidate's
        # first call does not look like a kernel keeping heap memory.
        import torch

        from ..task import KernelArg, TensorLayout

        out = KernelArg("out_ptr0", "buf0", "out", TensorLayout((_PROBE_THREADS,), (1,), "float32"), ctype="float*")
        for source in (HEADER_PROBE, _PARALLEL_PROBE):
            kernel = self.load(KernelTask("warm", "cpp-cpu", "cpu", "", "", None, source, (out,), ()), source)
        kernel(torch.zeros(_PROBE_THREADS))

    @staticmethod
    def _ctypes(task: KernelTask) -> list[str]:
        return [arg.ctype or "" for arg in task.args]

    def median_seconds(self, fn: Callable[[], Any], reps: int) -> float:
        return wall_median_seconds(fn, reps, warmup=max(2, reps // 10))

    def synchronize(self) -> None:
        return None


ADAPTER = CppCpuAdapter()
