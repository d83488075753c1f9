"""On a GPU: which variant of the two launcher-form stand-ins (HAND-WRITTEN STAND-INS for a model's replies, NOT
model output; benchmarks/llm_fixtures.py) to run in the fixture run, timed against Inductor on their own tasks.

For each task (``sampler_softmax``: softmax_split_workspace_triton's; ``rmsnorm``: rmsnorm_persistent_triton's) it
captures Inductor's kernel live at the real size and times, with ``triton.testing.do_bench`` (L2 flushed, median):
Inductor's kernel alone on the verifier's inputs (what the verifier compares with), the whole compiled function
under the default mode and under max-autotune-no-cudagraphs (one kernel each here; the whole call includes the
wrapper's launch cost), and the stand-in at a few variants, each checked against Inductor's kernel's output. The
variant marked ``*`` is the one the fixture uses now: the variant lines of
benchmarks/llm_fixtures/softmax_split_workspace_triton.py's launcher and ``llm_fixtures.RMSNORM_PERSISTENT``.

    . benchmarks/gpu_env.sh && python benchmarks/fixture_sweep.py [--only rmsnorm] [--out sweep.json]

About a minute and a half on an H200 (compiles included). Each arm is also timed back to back (``b2b us``), as
the verifier times it: with no cache flush between calls, a launcher whose host-side cost exceeds its kernels shows
it there.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import llm_fixtures  # the fixtures' tasks and stand-ins (this script's folder is first on sys.path)
import torch
import triton
import triton.testing

from aikg_inductor.verify import standalone

SEED = 0


@dataclasses.dataclass(frozen=True)
class Row:
    task: str
    arm: str
    variant: str
    us: float
    tb_per_s: float  # the task's tensors read or written once, over the time
    speedup: float  # Inductor's kernel's time over this one
    max_abs_error: float | None  # against Inductor's kernel's output, for the stand-ins
    back_to_back_us: float  # calls back to back, no flush between them: the verifier's way (launch costs show)


def split_sources(task: Any) -> dict[str, str]:
    """The split softmax stand-in at variants of (tile, tiles, warps, min_programs); the file's own first. The last,
    64 tiles a chunk and no floor on programs, is one chunk a row (a program per row, as Inductor's): the control
    for the split itself."""
    source = llm_fixtures.SPLIT_SOFTMAX.read_text()
    variants = {"* as in the file": source}
    for tile, tiles, warps, min_programs in ((2048, 4, 4, 528), (2048, 8, 8, 528), (4096, 2, 8, 528),
                                             (4096, 8, 8, 528), (8192, 2, 8, 528), (8192, 2, 16, 528),
                                             (1024, 8, 4, 528), (4096, 16, 8, 528), (4096, 64, 8, 1)):
        values = {"tile": tile, "tiles": tiles, "warps": warps, "min_programs": min_programs}
        variants[" ".join(f"{k}={v}" for k, v in values.items())] = llm_fixtures.with_variant(source, **values)
    return {label: llm_fixtures.softmax_split_code(task, "cuda", text) for label, text in variants.items()}


def persistent_sources(task: Any) -> dict[str, str]:
    """The persistent rms_norm at variants of (programs per SM, rows a step, warps, stages); the fixture's first. A
    large programs_per_sm is no longer persistent (one step per program): the control for persistence itself."""
    variant = llm_fixtures.PersistentVariant
    chosen = llm_fixtures.RMSNORM_PERSISTENT
    others = [variant(8, 4, 4, 2), variant(2, 8, 8, 2), variant(4, 2, 4, 2), variant(4, 4, 4, 1),
              variant(8, 2, 2, 2), variant(16, 1, 1, 2), variant(4, 8, 8, 2), variant(8, 8, 4, 3),
              variant(256, 4, 4, 1)]
    label = "programs_per_sm={0.programs_per_sm} rows={0.rows} warps={0.warps} stages={0.stages}".format
    variants = {f"* {label(chosen)}": chosen, **{label(v): v for v in others if v != chosen}}
    return {label: llm_fixtures.rmsnorm_persistent_code(task, "cuda", v) for label, v in variants.items()}


# Each task -> the stand-in sources to time on it, by variant.
SWEEPS: dict[str, Callable[[Any], dict[str, str]]] = {"sampler_softmax": split_sources, "rmsnorm": persistent_sources}


def task_bytes(task: Any) -> int:
    return sum(a.layout.storage_elements() * torch.empty((), dtype=getattr(torch, a.layout.dtype)).element_size()
               for a in task.args if a.layout is not None)


def bench_us(fn: Callable[[], Any]) -> float:
    return triton.testing.do_bench(fn, warmup=25, rep=200, return_mode="median") * 1e3


def back_to_back_us(fn: Callable[[], Any], calls: int = 200) -> float:
    """Wall time per call of ``calls`` calls back to back, then a synchronize: as the verifier times a batch. With
    no cache flush between calls the host has no slack: a launcher whose Python costs more than its kernels is
    launch-bound here, where do_bench's flushes hide it."""
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / calls * 1e6


def sweep(name: str) -> list[Row]:
    """Inductor's kernel, the compiled function in both modes, and each stand-in variant on task ``name``."""
    live = llm_fixtures.LIVE_TASKS[name]
    task = llm_fixtures.capture_live_task(name, "cuda")
    sources = SWEEPS[name](task)
    nbytes = task_bytes(task)
    baseline = standalone.prepare(task, seed=SEED)
    baseline()
    expected = {k: v.clone() for k, v in baseline.outputs().items()}
    base_us = bench_us(baseline)
    rows = [Row(name, "Inductor kernel", "default", base_us, nbytes / base_us / 1e6, 1.0, None,
                back_to_back_us(baseline))]
    del baseline
    inputs = live.inputs("cuda")
    for mode in ("default", "max-autotune-no-cudagraphs"):
        torch.compiler.reset()
        compiled = torch.compile(live.model, mode=mode)
        compiled(*inputs)
        whole_call = functools.partial(compiled, *inputs)
        us = bench_us(whole_call)
        rows.append(Row(name, "torch.compile (whole call)", mode, us, nbytes / us / 1e6, base_us / us, None,
                        back_to_back_us(whole_call)))
    torch.compiler.reset()
    for label, source in sources.items():
        call = standalone.prepare(task, source, seed=SEED)
        call()
        error = max(float((call.outputs()[k].float() - v.float()).abs().max()) for k, v in expected.items())
        us = bench_us(call)
        rows.append(Row(name, "stand-in", label, us, nbytes / us / 1e6, base_us / us, error, back_to_back_us(call)))
        del call
        print(f"  {label}: {us:.1f} us, back to back {rows[-1].back_to_back_us:.1f} us", flush=True)
    return rows


def print_table(rows: list[Row]) -> None:
    print(f"{'task':<16} {'arm':<27} {'variant':<58} {'us':>8} {'TB/s':>6} {'vs kernel':>9} {'max err':>9} "
          f"{'b2b us':>8}")
    for r in rows:
        error = "" if r.max_abs_error is None else f"{r.max_abs_error:.2e}"
        print(f"{r.task:<16} {r.arm:<27} {r.variant:<58} {r.us:>8.1f} {r.tb_per_s:>6.2f} {r.speedup:>8.2f}x "
              f"{error:>9} {r.back_to_back_us:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(SWEEPS), action="append")
    parser.add_argument("--out", type=Path, help="also write the rows here as JSON")
    args = parser.parse_args()
    rows: list[Row] = []
    for name in args.only or SWEEPS:
        print(f"{name}:", flush=True)
        rows += sweep(name)
    print_table(rows)
    if args.out:
        args.out.write_text(json.dumps({"label": llm_fixtures.LABEL, "card": torch.cuda.get_device_name(),
                                        "torch": torch.__version__, "triton": triton.__version__,
                                        "rows": [dataclasses.asdict(r) for r in rows]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
