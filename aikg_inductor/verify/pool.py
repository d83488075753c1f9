"""A warm pool of judge processes (``judge``), so the calling process never runs kernels or holds their memory.

Workers are plain subprocesses (``python -m aikg_inductor.verify.judge``), not multiprocessing children: spawn
would re-import the user's ``__main__``, and fork would copy a process that may hold CUDA and OpenMP state. Each
worker is its own process group, so a timeout kills it together with any compiler it started; the candidate runners
it starts die with it (PR_SET_PDEATHSIG). A worker that crashed, timed out or failed a job is replaced at once, so
the pool stays warm. Workers load only Inductor's baselines: candidates run in runners of their own.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any, Iterator, Sequence

from . import protocol

log = logging.getLogger(__name__)

# Importing torch and warming the C++ toolchain takes a few seconds; a cold machine can take much longer.
STARTUP_TIMEOUT_S = 300.0


class WorkerError(RuntimeError):
    """A job did not complete; ``rule`` names how (``crash`` or ``timeout``)."""

    rule = "worker"


class WorkerCrashed(WorkerError):
    rule = "crash"


class WorkerTimeout(WorkerError):
    rule = "timeout"


class JobFailed(RuntimeError):
    """The worker survived but the job raised (a compile error, an exception from the kernel)."""


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class Worker:
    """One worker process and our end of its socket."""

    def __init__(self, dsls: Sequence[str], threads: int | None = None, env: dict[str, str] | None = None) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, **(env or {})}
        # The judge shares its arena through an allocator segment of the arena's own (shared.Arena), which the
        # user's allocator settings (expandable segments) could deny it: the judge runs with torch's defaults.
        env.pop("PYTORCH_CUDA_ALLOC_CONF", None)
        if threads is not None:
            env["OMP_NUM_THREADS"] = str(threads)  # read by libgomp at start: torch's and the kernels' threads
        if "GOMP_SPINCOUNT" not in env and "OMP_WAIT_POLICY" not in env:
            # The judge's and the candidate runner's OpenMP threads take turns on the same cores; libgomp's default
            # spin after a parallel region (300,000 rounds, milliseconds) would let one side's idle threads eat
            # into the other's timed batch. 10,000 rounds still bridge the gaps between one kernel's regions.
            env["GOMP_SPINCOUNT"] = "10000"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aikg_inductor.verify.judge", str(theirs.fileno()), *dsls],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = False
        self.retire = False  # set by the borrower: replace this worker instead of reusing it

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _receive(self, timeout_s: float, what: str) -> tuple[dict[str, Any], list[bytes]]:
        if not self.conn.poll(timeout_s):
            self.kill()
            raise WorkerTimeout(f"{what} did not finish within {timeout_s:g} s; worker killed")
        try:
            return protocol.receive(self.conn)
        except (EOFError, OSError) as err:
            code = self._reap()
            raise WorkerCrashed(f"worker {_describe_exit(code)} during {what}") from err

    def _reap(self) -> int | None:
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        if not self.ready:
            self._receive(timeout_s, "worker start-up")
            self.ready = True

    def call(self, job: dict[str, Any], timeout_s: float) -> tuple[dict[str, Any], list[bytes]]:
        """Run one job; raises WorkerTimeout, WorkerCrashed (the worker is then dead) or JobFailed."""
        self.wait_ready()
        try:
            protocol.send(self.conn, job)
        except OSError as err:
            raise WorkerCrashed(f"worker {_describe_exit(self._reap())} before {job['op']}") from err
        header, frames = self._receive(timeout_s, f"job {job['op']}")
        if not header.get("ok"):
            raise JobFailed(str(header.get("error", "unknown error")))
        return header, frames

    def kill(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.conn.close()


class WorkerPool:
    """``size`` warm workers; ``worker()`` lends one exclusively and replaces it if it must not be reused.

    ``threads`` caps each worker's OpenMP threads (default: as the environment says). Timings are only valid for
    the thread count they were taken with; the report's device names it. ``env`` adds to the environment workers
    start with (``{"TRITON_INTERPRET": "1"}``: Triton kernels run under Triton's interpreter on CPU tensors).
    """

    def __init__(self, size: int = 1, dsls: Sequence[str] = ("cpp-cpu",), threads: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.dsls = tuple(dsls)
        self.threads = threads
        self.env = dict(env or {})
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._all: set[Worker] = set()
        self._lock = threading.Lock()
        # On CPU concurrent timings would share cores and skew each other; timing holds this lock.
        self.timing_lock = threading.Lock()
        self.bandwidth: float | None = None  # the device's copy bandwidth, bytes/s, once measured
        self._closed = False
        for _ in range(size):
            self._idle.put(self._start())

    def _start(self) -> Worker:
        worker = Worker(self.dsls, self.threads, self.env)
        with self._lock:
            self._all.add(worker)
        log.debug("verify worker %d started", worker.pid)
        return worker

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    @contextlib.contextmanager
    def worker(self) -> Iterator[Worker]:
        """Lend a ready worker; one that died, or that the borrower marked ``retire``, is replaced afterwards."""
        if self._closed:
            raise RuntimeError("worker pool is closed")
        worker = self._idle.get()
        if not worker.alive():
            self._discard(worker)
            worker = self._start()
        try:
            worker.wait_ready()
            yield worker
        finally:
            keep = not self._closed and worker.alive() and not worker.retire
            if not keep:
                self._discard(worker)
            if not self._closed:
                self._idle.put(worker if keep else self._start())

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._all)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._all]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()


_POOLS: dict[tuple[str, int | None], WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def default_pool(dsl: str, size: int = 1, device: int | None = None) -> WorkerPool:
    """The process-wide pool for ``dsl`` (on CUDA device ``device``, if given), started on first use with ``size``
    workers (the run's ``Options.verify_workers``; later calls get the pool as first started)."""
    with _POOLS_LOCK:
        key = (dsl, device)
        if key not in _POOLS:
            # A pinned worker sees its one card as cuda:0.
            env = {} if device is None else {"CUDA_VISIBLE_DEVICES": str(device)}
            _POOLS[key] = WorkerPool(size, (dsl,), env=env)
        return _POOLS[key]


def device_pools(dsl: str, size: int = 1) -> list[WorkerPool]:
    """One pool per device the DSL runs on: each visible GPU gets its own queue of workers; the CPU has one."""
    from ..dsl import adapter_for

    if adapter_for(dsl).device_type == "cuda":
        import torch

        count = torch.cuda.device_count()
        if count > 1:
            return [default_pool(dsl, size, device) for device in range(count)]
    return [default_pool(dsl, size)]


@atexit.register
def _close_pools() -> None:
    for pool in _POOLS.values():
        pool.close()
