"""A verifier worker: a separate process that compiles and runs kernels on request.

Run as ``python -m aikg_inductor.verify.worker FD [DSL ...]`` by ``pool.Worker``; FD is its end of a socket pair.
Candidate code is only ever loaded here. A crash, hang or abort takes this process down and nothing else; the
parent notices a closed socket or a missed deadline, kills the process group and starts a fresh worker.

Jobs (see ``protocol``): ``load`` (compile a source; reply with an id), ``oracle`` (run the baseline on the trials'
values and keep its storages), ``judge`` (run a candidate on the same trials and compare it with the oracle;
reply with the first failure and the largest errors), ``time`` (interleaved timing of two loaded kernels),
``device`` (the name of the device a DSL runs on), ``bandwidth`` (the device's measured copy bandwidth, the
roofline of memory-bound kernels).

Inputs are drawn and outputs compared where the kernel runs, so nothing of the size of the data crosses the
process boundary or the host bus. The judge therefore shares a process with candidate code; what keeps a candidate
from reaching it is the static guards (no imports outside the DSL's allowlist, no reflection, no torch), and a
checksum of the oracle's storages, taken before the candidate loads and checked after it ran, catches a stray
write into them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any, Callable

import torch

from ..task import KernelTask
from . import protocol
from .correctness import Errors, Failure, check_contract, judge_trial
from .timing import SCREEN_CPU_BUDGET_S, SCREEN_GPU_REP_MS, SCREEN_GPU_ROUNDS, copy_bandwidth, measure_cpu, measure_gpu
from .values import Trial, as_bytes, build, call_values, sized

log = logging.getLogger(__name__)

# One verification's trials: six, plus two at other sizes for dynamic shapes.
MAX_DRAWN_TRIALS = 8
# Compiler output for a broken candidate can be huge; the verdict needs the start of it.
MAX_ERROR_CHARS = 4000

# A trivial kernel compiled once at start so the first real compile does not pay for the toolchain's imports.
_WARM_CPP = 'extern "C" void Placeholder.KERNEL_NAME(float* out_ptr0) { out_ptr0[0] = 1.0f; }'


class Worker:
    def __init__(self) -> None:
        self.kernels: dict[str, Callable[..., None]] = {}
        self.tasks: dict[str, KernelTask] = {}
        # The previous trial's storages per kernel: what a ``reuse`` trial refills in place.
        self.last_flats: dict[str, list[Any]] = {}
        # Each trial's values as drawn, on the device: the baseline and the candidate run on the same trials, so
        # the second run clones them instead of drawing them again.
        self.pristine: dict[tuple[Any, ...], list[Any]] = {}
        # The baseline's storages after each trial, and their checksums taken before any candidate ran.
        self.oracles: dict[tuple[Any, ...], tuple[list[torch.Tensor], list[int]]] = {}

    def task(self, text: str) -> KernelTask:
        key = hashlib.sha256(text.encode()).hexdigest()
        if key not in self.tasks:
            self.tasks[key] = KernelTask.from_json(text)
        return self.tasks[key]

    def load(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        from ..dsl import adapter_for

        task = self.task(job["task"])
        kernel_id = hashlib.sha256(f"{task.dsl}\0{job['source']}".encode()).hexdigest()
        if kernel_id not in self.kernels:
            self.kernels[kernel_id] = adapter_for(task.dsl).load(task, job["source"])
        return {"kernel": kernel_id}, []

    def oracle(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """Run the baseline on each trial and keep its storages; a baseline that breaks the contract fails."""
        task = self.task(job["task"])
        for spec in job["trials"]:
            trial = Trial.from_dict({**spec, "reuse": False})
            drawn = [f for f in self._drawn(job["task"], task, trial) if isinstance(f, torch.Tensor)]
            storages = self._run(job["task"], task, job["kernel"], trial)
            if failure := check_contract(task, trial, storages, before=drawn):
                return {"failure": _failure(failure)}, []
            self.oracles[_trial_key(job["task"], trial)] = (storages, [_checksum(s) for s in storages])
            _forget_oldest(self.oracles)
        return {"failure": None}, []

    def judge(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """Run a candidate on the trials the oracle ran, checking each against it as it comes."""
        task = self.task(job["task"])
        trials = [Trial.from_dict(spec) for spec in job["trials"]]
        oracle = [self.oracles[_trial_key(job["task"], t)] for t in trials]
        errors = Errors()
        failure = None
        for t, trial in enumerate(trials):
            storages = self._run(job["task"], task, job["kernel"], trial)
            if failure := judge_trial(task, trials, t, [o[0] for o in oracle[: t + 1]], storages, errors):
                break
        if failure is None and any(_checksum(s) != c for storages, sums in oracle for s, c in zip(storages, sums)):
            failure = Failure("out-of-bounds-write", "the baseline's results, held in the verifier, changed while "
                                                     "the candidate ran: it wrote outside its buffers")
        return {"failure": failure and _failure(failure), "max_abs": errors.max_abs, "max_rel": errors.max_rel}, []

    def _run(self, task_text: str, task: KernelTask, kernel_id: str, trial: Trial) -> list[torch.Tensor]:
        """One call of a loaded kernel on ``trial``'s values; the tensor storages after it."""
        from ..dsl import adapter_for

        adapter = adapter_for(task.dsl)
        flats = [f.clone() if isinstance(f, torch.Tensor) else f for f in self._drawn(task_text, task, trial)]
        previous = self.last_flats.get(kernel_id)
        if trial.reuse and previous is not None:
            for old, new in zip(previous, flats):
                if isinstance(old, torch.Tensor):
                    old.copy_(new)
            flats = previous
        self.kernels[kernel_id](*call_values(sized(task, trial), flats))
        adapter.synchronize()
        self.last_flats[kernel_id] = flats
        return [f for f in flats if isinstance(f, torch.Tensor)]

    def _drawn(self, task_text: str, task: KernelTask, trial: Trial) -> list[Any]:
        """``trial``'s values for ``task`` on the device, drawn once per task and trial (never handed out: clone)."""
        from ..dsl import adapter_for

        key = _trial_key(task_text, trial)
        if key not in self.pristine:
            self.pristine[key] = build(task, trial, adapter_for(task.dsl).device_type)
            _forget_oldest(self.pristine)
        return self.pristine[key]

    def time(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        from ..dsl import adapter_for

        task = self.task(job["task"])
        device_type = adapter_for(task.dsl).device_type  # "cpu" for Triton kernels under the interpreter
        values = call_values(task, build(task, Trial(seed=int(job["seed"])), device_type))
        baseline, candidate = self.kernels[job["baseline"]], self.kernels[job["candidate"]]
        screen = bool(job.get("screen"))
        arms = {"baseline": lambda: baseline(*values), "candidate": lambda: candidate(*values),
                # a screen only ranks: no control arm, no noise estimate
                "control": None if screen else lambda: baseline(*values)}
        if device_type == "cuda":
            measurement = measure_gpu(**arms, rounds=SCREEN_GPU_ROUNDS, rep_ms=SCREEN_GPU_REP_MS) if screen \
                else measure_gpu(**arms)
        else:
            measurement = measure_cpu(**arms, budget_s=SCREEN_CPU_BUDGET_S if screen else float(job["budget_s"]))
        return measurement.to_dict(), []

    def device(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        from ..dsl import adapter_for

        if "dsl" not in job:
            return {"name": device_name(job["device_type"])}, []
        adapter = adapter_for(job["dsl"])
        name = device_name(adapter.device_type)
        if getattr(adapter, "interpreted", False):
            name += ", Triton interpreter (timings are the interpreter's, not a GPU's)"
        return {"name": name}, []

    def bandwidth(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        return {"bytes_per_s": copy_bandwidth(job["device_type"])}, []


def _trial_key(task_text: str, trial: Trial) -> tuple[Any, ...]:
    return hashlib.sha256(task_text.encode()).hexdigest(), trial.seed, trial.kind, trial.symbols


def _forget_oldest(drawn: dict[tuple[Any, ...], Any]) -> None:
    """Keep one verification's trials: they come in order, once per kernel, so the oldest goes first."""
    while len(drawn) > MAX_DRAWN_TRIALS:
        drawn.pop(next(iter(drawn)))


def _checksum(storage: torch.Tensor) -> int:
    return int(as_bytes(storage).sum(dtype=torch.int64))


def _failure(failure: Failure) -> dict[str, str]:
    return {"rule": failure.rule, "message": failure.message}


def device_name(device_type: str) -> str:
    """The card, or the CPU model with its vector ISA and thread count: what timings are valid for."""
    if device_type == "cuda":
        return torch.cuda.get_device_name()
    model = "cpu"
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    from .. import interception

    return f"{model} ({interception.device_arch(torch.device('cpu'))}, {torch.get_num_threads()} threads)"


def _warm(dsls: list[str]) -> None:
    """Import what jobs need now, while nobody waits: the pool is warm when a job comes."""
    from ..dsl import adapter_for
    from ..task import KernelArg, TensorLayout

    for dsl in dsls:
        adapter = adapter_for(dsl)
        if dsl == "cpp-cpu":
            out = KernelArg("out_ptr0", "buf0", "out", TensorLayout((1,), (1,), "float32"), ctype="float*")
            task = KernelTask("warm", dsl, "cpu", "", "", None, _WARM_CPP, (out,), ())
            adapter.load(task, _WARM_CPP)


def serve(conn: Connection, dsls: list[str]) -> None:
    worker = Worker()
    _warm(dsls)
    protocol.send(conn, {"ready": True, "pid": os.getpid()})
    handlers = {"load": worker.load, "oracle": worker.oracle, "judge": worker.judge, "time": worker.time,
                "device": worker.device, "bandwidth": worker.bandwidth}
    while True:
        try:
            job, _ = protocol.receive(conn)
        except EOFError:
            return  # the parent closed the socket or died: nothing left to serve
        try:
            header, frames = handlers[job["op"]](job)
            protocol.send(conn, {"ok": True, **header}, frames)
        except Exception as err:  # noqa: BLE001 - every failure goes back to the judge as a message
            text = f"{type(err).__name__}: {err}"
            log.debug("job %s failed:\n%s", job.get("op"), traceback.format_exc())
            protocol.send(conn, {"ok": False, "error": text[:MAX_ERROR_CHARS]})


def main(argv: list[str]) -> None:
    fd, dsls = int(argv[0]), argv[1:]
    sock = socket.socket(fileno=fd)
    serve(Connection(sock.detach()), dsls)


if __name__ == "__main__":
    main(sys.argv[1:])
