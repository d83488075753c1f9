"""The candidate runner: a sandboxed process that loads exactly one candidate, runs it on request, and is discarded.

Run as ``python -m aikg_inductor.verify.runner FD [DSL ...]`` by ``CandidateRunner`` (the judge's side, below);
it warms the DSLs' toolchains (each adapter's ``warm``) while it waits as a spare. Then, in order:

1. ``prepare``: the DSL adapter compiles and proves the source (compilers may run; no candidate code does, but what
   the static guards checked: a Triton module's top level);
2. ``arena``: map the memory the judge shares (``shared.Arena``);
3. ``lockdown``: ``sandbox.lock_down`` (Landlock, seccomp, resource limits), for good;
4. ``load``: the adapter's ``load_prepared``, inside the sandbox;
5. ``bind`` / ``call`` / ``batch``: point the kernel at arena storages, run it once, or run it back to back and report
   the time.

Whatever this process says is data for the judge to check, never a verdict: the judge compares the arena's contents
itself and bounds any reported time from below with its own clock.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import logging
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from multiprocessing.connection import Connection
from typing import Any, Callable, Mapping

from . import protocol

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000
# CPU seconds a runner may spend after its lockdown, per second of the judge's per-request timeout (OpenMP threads
# all count).
CPU_SECONDS_PER_TIMEOUT_S = 8


class RunnerFailed(Exception):
    """The candidate's process refused, crashed, broke its sandbox or ran out of time; ``rule`` says which."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


# ------------------------------------------------------------------------------------------ the runner itself


class _Runner:
    def __init__(self, conn: Connection | None) -> None:
        self.conn = conn
        self.task: Any = None
        self.adapter: Any = None
        self.prepared: Any = None
        self.kernel: Callable[..., None] | None = None
        self.arena: Any = None
        self.timed: Any = None  # timing.TimedCalls over the bound sets
        self.heap_kept = 0  # bytes the candidate's calls left allocated, net, over all of them
        self.mappings_at_load = 0  # workspace mappings alive before the candidate's first call
        self.locked = False

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {"prepare": self.prepare, "arena": self.attach, "lockdown": self.lockdown, "load": self.load,
                "bind": self.bind, "call": self.call, "batch": self.batch}

    def prepare(self, job: dict[str, Any]) -> dict[str, Any]:
        from ..dsl import adapter_for
        from ..task import KernelTask

        if self.task is not None:
            raise RuntimeError("a runner prepares one candidate only")
        self.task = KernelTask.from_json(job["task"])
        self.adapter = adapter_for(self.task.dsl)
        self.prepared = self.adapter.prepare(self.task, job["source"])
        return {}

    def attach(self, job: dict[str, Any]) -> dict[str, Any]:
        from .shared import Arena, receive_fds

        fds = receive_fds(self.conn.fileno(), 1) if "bytes" in job else []
        self.arena = Arena.attach(job, fds)
        return {}

    def lockdown(self, job: dict[str, Any]) -> dict[str, Any]:
        from .sandbox import lock_down

        heap_in_use()  # look the allocator's counters up now: no library is opened after the lockdown
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu_seconds = int(used.ru_utime + used.ru_stime) + int(job["cpu_seconds"])
        applied = lock_down(job["scratch"], self.adapter.device_type, cpu_seconds)
        self.locked = True
        return {"layers": list(applied.layers), "missing": list(applied.missing), "notes": list(applied.notes)}

    def load(self, job: dict[str, Any]) -> dict[str, Any]:
        if not self.locked:
            raise RuntimeError("refusing to load candidate code before the lockdown")
        from ..dsl.cpp_workspace import live_mappings

        self.kernel = self.adapter.load_prepared(self.prepared)
        self.mappings_at_load = live_mappings()
        return {}

    def bind(self, job: dict[str, Any]) -> dict[str, Any]:
        from .timing import TimedCalls
        from .values import Trial, sized

        task = sized(self.task, Trial.from_dict(job["trial"]))
        self.timed = TimedCalls.over(task, [self.arena.flats(slots) for slots in job["sets"]], self.adapter.synchronize)
        return {}

    def call(self, job: dict[str, Any]) -> dict[str, Any]:
        """One call, as a batch of one (the same poisoning, so a checked call looks like any timed one). With
        ``keep_in_out``, the judge has just written the in-out arguments: later calls start from these values."""
        assert self.kernel is not None
        if job.get("keep_in_out"):
            self.timed.keep_in_out()
        self._kept(lambda: self.timed.seconds_per_call(self.kernel, 1, int(job.get("set", 0))))
        return self._kept_so_far(mappings=True)

    def batch(self, job: dict[str, Any]) -> dict[str, Any]:
        """``calls`` timed calls among the first ``in_use`` sets. With ``keep_in_out``, the judge has redrawn the
        sets since the last batch: later calls start from their in-out values as they are now."""
        calls = int(job["calls"])
        assert self.kernel is not None or calls == 0
        if job.get("keep_in_out"):
            self.timed.keep_in_out()
        self.timed.in_use = int(job.get("in_use", 0)) or len(self.timed.argument_sets)
        seconds = self._kept(lambda: self.timed.seconds_per_call(self.kernel, calls, int(job.get("last", 0))))
        return {"seconds": seconds, **self._kept_so_far(mappings=bool(job.get("account")))}

    def _kept(self, run: Callable[[], Any]) -> Any:
        """``run()``, adding the heap memory it left allocated to ``heap_kept``: the candidate's calls only, summed
        over all of them (a kernel that keeps a block keeps state, a little at a time or at once)."""
        heap_before = heap_in_use()
        result = run()
        self.heap_kept += heap_in_use() - heap_before
        return result

    def _kept_so_far(self, mappings: bool) -> dict[str, int]:
        """The heap kept so far and, with ``mappings``, the workspace mappings left mapped since the load (only the
        workspace makes such mappings, so this is the candidate's calls' net, counted where the judge asks: reading
        ``/proc/self/maps`` takes half a millisecond, which on every timed batch would blur the judge's floor)."""
        from ..dsl.cpp_workspace import live_mappings

        kept = {"heap_kept": self.heap_kept}
        if mappings:
            kept["workspaces_kept"] = live_mappings() - self.mappings_at_load
        return kept


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]


@functools.cache
def _mallinfo2() -> Callable[[], _MallInfo2] | None:
    function = getattr(ctypes.CDLL(None), "mallinfo2", None)  # glibc 2.33 and later
    if function is not None:
        function.restype = _MallInfo2
    return function


def heap_in_use() -> int:
    """Bytes the C allocator has handed out and not taken back (small blocks and mapped ones); 0 where glibc cannot
    say."""
    function = _mallinfo2()
    if function is None:
        return 0
    info = function()
    return int(info.uordblks + info.hblkhd)


def _rule_of(err: BaseException, locked: bool, op: str) -> str:
    if type(err).__name__ == "GuardRejected":  # verify.guards: a proof on the compiled code failed
        return str(getattr(err, "rule", "guard:proof"))
    if op == "prepare":
        return "compile-error"
    if locked and any(isinstance(e, OSError) and e.errno in (errno.EACCES, errno.EPERM, errno.EFBIG)
                      for e in _chain(err)):
        return "sandbox-violation"
    return "runtime-error"


def _chain(err: BaseException | None) -> list[BaseException]:
    """``err`` and the exceptions it was raised from (Triton's interpreter wraps what a kernel raised)."""
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def serve(conn: Connection, dsls: list[str]) -> None:
    from ..dsl import warm

    warm(dsls)  # Inductor's toolchain, with a trivial kernel of our own: a spare runner is ready to compile at once
    runner = _Runner(conn)
    handlers = runner.handlers()
    protocol.send(conn, {"ready": True, "pid": os.getpid()})
    while True:
        try:
            job, _ = protocol.receive(conn)
        except EOFError:
            return
        try:
            protocol.send(conn, {"ok": True, **handlers[job["op"]](job)})
        except Exception as err:  # noqa: BLE001 - every failure goes back to the judge as data
            log.debug("runner job %s failed:\n%s", job.get("op"), traceback.format_exc())
            text = f"{type(err).__name__}: {err}"[:MAX_ERROR_CHARS]
            protocol.send(conn, {"ok": False, "error": text, "rule": _rule_of(err, runner.locked, job["op"])})


def _die_with_parent() -> None:
    """SIGKILL this process when the judge that started it dies (PR_SET_PDEATHSIG), hung candidate or not."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the judge died before the call
        os._exit(1)


def main(argv: list[str]) -> None:
    _die_with_parent()
    sys.dont_write_bytecode = True  # imports after the lockdown must not try to write
    sock = socket.socket(fileno=int(argv[0]))
    serve(Connection(sock.detach()), argv[1:])


# ------------------------------------------------------------------------------------------ the judge's side


class InProcessRunner:
    """A runner's jobs done in the judge's own process, for code as trusted as the baseline: Inductor's kernel with
    other launch parameters (``DslAdapter.baseline_variant``), which Inductor's own autotuner runs in-process too.
    The same jobs as a ``CandidateRunner``, minus the process and its start-up; there is no sandbox to lock, and the
    judge's arena is used as it is. A request's time limit cannot be enforced here: trusted code does not hang."""

    scratch = ""
    ready = True

    def __init__(self, arena_of: Callable[[], Any]) -> None:
        self._runner = _Runner(None)
        self._handlers = self._runner.handlers()
        self._arena_of = arena_of

    def wait_ready(self, timeout_s: float) -> None:
        return None

    def request(self, job: dict[str, Any], timeout_s: float, what: str, fds: list[int] | None = None,
                ) -> dict[str, Any]:
        op = job["op"]
        try:
            if op == "arena":
                self._runner.arena = self._arena_of()
                return {"ok": True}
            if op == "lockdown":
                self._runner.locked = True
                return {"ok": True, "layers": [], "missing": [],
                        "notes": ["not sandboxed: Inductor's own kernel with other launch parameters"]}
            return {"ok": True, **self._handlers[op](job)}
        except Exception as err:  # noqa: BLE001 - reported as a runner reports it
            raise RunnerFailed(_rule_of(err, self._runner.locked, op), f"{what}: {type(err).__name__}: {err}"
                               [:MAX_ERROR_CHARS]) from err

    def alive(self) -> bool:
        return True

    def close(self) -> None:
        self._runner = _Runner(None)

# What killed a runner, as a rule: SIGSYS is seccomp's answer to a forbidden call; SIGXCPU and SIGXFSZ are the
# resource limits on CPU time and file size.
_SIGNAL_RULES = {signal.SIGSYS: "sandbox-violation", signal.SIGXFSZ: "sandbox-violation", signal.SIGXCPU: "timeout"}


# Variables that may hold credentials (an LLM endpoint's key, a cloud token): candidate code never sees them.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|^AIKG_LLM_|^OPENAI_", re.IGNORECASE)


def _without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environ.items() if not _SECRET_NAME.search(name)}


class CandidateRunner:
    """A started runner process, its socket and its scratch folder; ``close`` ends all three."""

    def __init__(self, dsls: list[str], env: dict[str, str] | None = None, own_inductor_cache: bool = False,
                 ) -> None:
        self.scratch = tempfile.mkdtemp(prefix="aikg-runner-")
        ours, theirs = socket.socketpair()
        # MALLOC_PERTURB_: glibc overwrites every block it frees, so a memo left in freed memory is gone by the time
        # the allocator hands the same block to the next call; with no per-thread cache (tcache), whose blocks it
        # would not overwrite.
        env = {**_without_secrets(os.environ), **(env or {}), "TMPDIR": self.scratch, "PYTHONDONTWRITEBYTECODE": "1",
               "MALLOC_PERTURB_": "165", "GLIBC_TUNABLES": "glibc.malloc.tcache_count=0",
               "TRITON_CACHE_DIR": os.path.join(self.scratch, "triton")}
        if own_inductor_cache:
            # Triton kernels may autotune at their first call, inside the sandbox, and Inductor then records the
            # winner in its cache: that cache must be the runner's own, writable one. C++ kernels keep Inductor's
            # shared cache (warm compiles); only the compiler writes there, before the lockdown, from checked source.
            env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(self.scratch, "inductor")
        self.proc = subprocess.Popen([sys.executable, "-m", "aikg_inductor.verify.runner", str(theirs.fileno()),
                                      *dsls],
                                     pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, start_new_session=True,
                                     env=env)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = False

    def wait_ready(self, timeout_s: float) -> None:
        if not self.ready:
            self._receive(timeout_s, "runner start-up")
            self.ready = True

    def request(self, job: dict[str, Any], timeout_s: float, what: str, fds: list[int] | None = None,
                ) -> dict[str, Any]:
        """One job; raises ``RunnerFailed`` with the rule that names how it failed."""
        try:
            protocol.send(self.conn, job)
            if fds:
                from .shared import send_fds

                send_fds(self.conn.fileno(), fds)
        except OSError as err:
            raise self._died(what) from err
        header = self._receive(timeout_s, what)
        if not header.get("ok"):
            raise RunnerFailed(str(header.get("rule", "runtime-error")), f"{what}: {header.get('error')}")
        return header

    def _receive(self, timeout_s: float, what: str) -> dict[str, Any]:
        if not self.conn.poll(timeout_s):
            self.close()
            raise RunnerFailed("timeout", f"{what} did not finish within {timeout_s:g} s; runner killed")
        try:
            header, _ = protocol.receive(self.conn)
        except (EOFError, OSError, ValueError) as err:
            raise self._died(what) from err
        return header

    def _died(self, what: str) -> RunnerFailed:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.close()
        if code is not None and code < 0:
            sig = signal.Signals(-code)
            rule = _SIGNAL_RULES.get(sig, "crash")
            if rule == "sandbox-violation":
                return RunnerFailed(rule, f"{what}: the runner was killed by {sig.name}: it tried something its "
                                          "sandbox forbids (a new process, a socket, a file too large, ...)")
            return RunnerFailed(rule, f"{what}: the runner was killed by {sig.name}")
        return RunnerFailed("crash", f"{what}: the runner exited (status {code})")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.conn.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
