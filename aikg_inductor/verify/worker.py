"""A verifier worker: a separate process that compiles and runs kernels on request.

Run as ``python -m aikg_inductor.verify.worker FD [DSL ...]`` by ``pool.Worker``; FD is its end of a socket pair.
Candidate code is only ever loaded here. A crash, hang or abort takes this process down and nothing else; the
parent notices a closed socket or a missed deadline, kills the process group and starts a fresh worker.

Jobs (see ``protocol``): ``load`` (compile a source; reply with an id), ``trials`` (run a loaded kernel on the
trials' values; reply with every tensor's whole guarded storage after the call), ``time`` (interleaved timing of
two loaded kernels), ``device`` (the name of the device a DSL runs on), ``bandwidth`` (the device's measured copy
bandwidth, the roofline of memory-bound kernels).
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
        # the second run clones them instead of drawing and copying them to the device again.
        self.pristine: dict[tuple[Any, ...], list[Any]] = {}

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

    def trials(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        from ..dsl import adapter_for

        task = self.task(job["task"])
        kernel = self.kernels[job["kernel"]]
        adapter = adapter_for(task.dsl)
        frames: list[bytes] = []
        for spec in job["trials"]:
            trial = Trial.from_dict(spec)
            flats = [f.clone() if isinstance(f, torch.Tensor) else f
                     for f in self._drawn(job["task"], task, trial, adapter.device_type)]
            previous = self.last_flats.get(job["kernel"])
            if trial.reuse and previous is not None:
                for old, new in zip(previous, flats):
                    if isinstance(old, torch.Tensor):
                        old.copy_(new)
                device_flats = previous
            else:
                device_flats = flats
            kernel(*call_values(sized(task, trial), device_flats))
            adapter.synchronize()
            self.last_flats[job["kernel"]] = device_flats
            frames.extend(as_bytes(f.cpu()).numpy().tobytes() for f in device_flats if isinstance(f, torch.Tensor))
        return {"trials": len(job["trials"])}, frames

    def _drawn(self, task_text: str, task: KernelTask, trial: Trial, device_type: str) -> list[Any]:
        """``trial``'s values for ``task`` on the device, drawn once per task and trial (never handed out: clone)."""
        key = (hashlib.sha256(task_text.encode()).hexdigest(), trial.seed, trial.kind, trial.symbols)
        if key not in self.pristine:
            if len(self.pristine) >= MAX_DRAWN_TRIALS:
                self.pristine.pop(next(iter(self.pristine)))  # the oldest: trials come in order, once per kernel
            self.pristine[key] = _to_device(build(task, trial), device_type)
        return self.pristine[key]

    def time(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        from ..dsl import adapter_for

        task = self.task(job["task"])
        device_type = adapter_for(task.dsl).device_type  # "cpu" for Triton kernels under the interpreter
        trial = Trial(seed=int(job["seed"]))
        calls = []
        for name in ("baseline", "candidate"):
            kernel = self.kernels[job[name]]
            values = call_values(task, _to_device(build(task, trial), device_type))
            calls.append(lambda kernel=kernel, values=values: kernel(*values))
        screen = bool(job.get("screen"))
        if device_type == "cuda":
            measurement = measure_gpu(*calls, rounds=SCREEN_GPU_ROUNDS, rep_ms=SCREEN_GPU_REP_MS) if screen \
                else measure_gpu(*calls)
        else:
            measurement = measure_cpu(*calls, budget_s=SCREEN_CPU_BUDGET_S if screen else float(job["budget_s"]))
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


def _to_device(flats: list[Any], device_type: str) -> list[Any]:
    return [f.to(device_type) if isinstance(f, torch.Tensor) else f for f in flats]


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
    handlers = {"load": worker.load, "trials": worker.trials, "time": worker.time, "device": worker.device,
                "bandwidth": worker.bandwidth}
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
