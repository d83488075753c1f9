"""Judging a candidate's outputs against the baseline's on identical inputs (data only; run in the worker).

The worker keeps each trial's values as drawn (``values.build``) and the baseline's storages after its call, both
on the device, and checks the candidate's storages after its call, trial by trial, in order: guard bands untouched
(else ``out-of-bounds-write``), inputs unmodified unless their role is ``in_out`` (else ``input-mutated``), then
every live output against the oracle. Scratch outputs (``live=False``) may hold anything inside their own storage.
"""

from __future__ import annotations

import dataclasses

import torch

from ..task import KernelArg, KernelTask
from .values import (Trial, as_bytes, guard_bands_intact, guard_fill, guard_of, input_scale, poison, sized,
                     size_variants, view)

# Tolerances per output dtype, as (atol, rtol): |candidate - oracle| <= atol * scale + rtol * |oracle| elementwise,
# where scale is the trial's input magnitude (1, or values.LARGE for the "large" trial, since absolute rounding
# error grows with the data). fp32 is tight enough to catch a dropped term yet allows reordered sums and fused
# multiply-adds; fp16/bf16 allow about one to two ulps at unit magnitude plus accumulation-order noise. Integer
# and bool outputs must match exactly.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-9, 1e-9),
    "float32": (1e-5, 1e-5),
    "float16": (1e-3, 1e-3),
    "bfloat16": (1e-2, 1e-2),
}

# The default plan: several seeds, special values in some trials, and a last trial that refills the previous
# trial's buffers in place (a result cached by pointer or by call count then shows up as a stale output).
TRIAL_KINDS = ("normal", "large", "tiny", "negative-zero-rows", "normal", "normal")


def default_trials(base_seed: int, task: KernelTask | None = None) -> list[Trial]:
    """The trial plan; for a dynamic-shape ``task`` it ends with one normal trial at each of ``size_variants``."""
    last = len(TRIAL_KINDS) - 1
    trials = [Trial(base_seed + i, kind, reuse=i == last) for i, kind in enumerate(TRIAL_KINDS)]  # type: ignore[arg-type]
    for i, symbols in enumerate(size_variants(task) if task is not None else []):
        trials.append(Trial(base_seed + len(TRIAL_KINDS) + i, "normal", symbols=symbols))
    return trials


@dataclasses.dataclass
class Failure:
    rule: str
    message: str


@dataclasses.dataclass
class Errors:
    """Largest errors seen over finite elements of live float outputs."""

    max_abs: float = 0.0
    max_rel: float = 0.0


def check_contract(
    task: KernelTask, trial: Trial, after: list[torch.Tensor], before: list[torch.Tensor]
) -> Failure | None:
    """Guard bands intact and inputs unmodified, for one trial's storages after the call. ``before`` is what they
    held before it: the trial's values as drawn, or the oracle's storages (already checked), which serve as well."""
    for arg, b, a in zip(sized(task, trial).tensor_args, before, after):
        if a.numel() != b.numel():
            return Failure("harness-error", f"{arg.param}: storage came back with {a.numel()} elements")
        if not guard_bands_intact(a, b, guard_of(arg, b)):
            return Failure("out-of-bounds-write", f"{arg.param}: memory just outside the buffer was written")
        if arg.role == "in" and not torch.equal(as_bytes(a), as_bytes(b)):
            changed = int((as_bytes(a) != as_bytes(b)).sum())
            return Failure("input-mutated", f"input {arg.param} was modified ({changed} bytes changed)")
    return None


def live_outputs(task: KernelTask, storages: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    return {
        arg.param: view(arg, flat)
        for arg, flat in zip(task.tensor_args, storages)
        if arg.role in ("out", "in_out") and arg.live
    }


def _first_index(mask: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in mask.nonzero()[0])


def compare(
    name: str, got: torch.Tensor, want: torch.Tensor, scale: float, errors: Errors
) -> Failure | None:
    """One output against the oracle's; updates ``errors`` with the largest finite differences."""
    dtype_name = str(want.dtype).removeprefix("torch.")
    if not want.dtype.is_floating_point:
        bad = got != want
        if bad.any():
            idx = _first_index(bad)
            return Failure("mismatch", f"{name}{list(idx)}: got {got[idx].item()}, expected {want[idx].item()} "
                                       f"({int(bad.sum())} elements differ)")
        return None
    atol, rtol = TOLERANCES.get(dtype_name, TOLERANCES["float32"])
    # float32 holds fp16/bf16/fp32 values exactly and their differences to far below any tolerance here; float64
    # would double the memory traffic of comparing outputs of hundreds of MB.
    wide = torch.float64 if want.dtype == torch.float64 else torch.float32
    g, w = got.to(wide), want.to(wide)
    unwritten = torch.isnan(g) & ~torch.isnan(w)
    if unwritten.any():
        idx = _first_index(unwritten)
        element = as_bytes(got[idx].reshape(1).clone())
        if element.equal(as_bytes(torch.tensor([poison(got.dtype)], dtype=got.dtype, device=got.device))):
            rule, what = "unwritten-output", "still holds the NaN poison: never written"
        elif element.equal(as_bytes(guard_fill(got.dtype, 1, got.device))):
            rule, what = "out-of-bounds-read", "is the guard band's NaN: read from outside a buffer"
        else:
            rule, what = "nan-inf-mismatch", "is NaN"
        return Failure(rule, f"{name}{list(idx)} {what}, expected {w[idx].item():g} "
                             f"({int(unwritten.sum())} of {w.numel()} elements)")
    special = ~torch.isfinite(w) | ~torch.isfinite(g)
    # NaN where the oracle has NaN, and infinities with the same sign at the same places.
    special_bad = special & ~((torch.isnan(g) & torch.isnan(w)) | (g == w))
    if special_bad.any():
        idx = _first_index(special_bad)
        return Failure("nan-inf-mismatch", f"{name}{list(idx)}: got {g[idx].item()}, expected {w[idx].item()}")
    finite = ~special
    diff = torch.where(finite, (g - w).abs(), torch.zeros_like(g))
    tol = atol * scale + rtol * w.abs()
    if diff.numel():
        errors.max_abs = max(errors.max_abs, float(diff.max()))
        significant = finite & (w.abs() > atol * scale)
        if significant.any():
            errors.max_rel = max(errors.max_rel, float((diff[significant] / w.abs()[significant]).max()))
    bad = diff > tol
    if bad.any():
        idx = _first_index(bad)
        return Failure("mismatch", f"{name}{list(idx)}: got {g[idx].item():.6g}, expected {w[idx].item():.6g} "
                                   f"(|diff| {diff[idx].item():.3g} > tol {tol[idx].item():.3g}; "
                                   f"{int(bad.sum())} of {w.numel()} elements)")
    return None


def judge_trial(
    task: KernelTask,
    trials: list[Trial],
    t: int,
    oracle: list[list[torch.Tensor]],
    candidate: list[torch.Tensor],
    errors: Errors,
) -> Failure | None:
    """The candidate's failure in trial ``t`` (``candidate``: its storages after the call), or None if it matched
    the oracle there. ``oracle`` holds the baseline's storages for trials ``0..t`` (earlier ones expose a result
    cached from a previous call)."""
    trial = trials[t]
    if failure := check_contract(task, trial, candidate, before=oracle[t]):
        return _in_trial(failure, t, trial)
    at_size = sized(task, trial)
    want, got = live_outputs(at_size, oracle[t]), live_outputs(at_size, candidate)
    for name in want:
        arg = _arg(task, name)
        assert arg.layout is not None
        scale = input_scale(trial, arg.layout.dtype)
        failure = compare(name, got[name], want[name], scale, errors)
        if failure is None:
            continue
        if failure.rule == "mismatch" and _matches_earlier(name, got[name], oracle[:t], task, trials, scale):
            failure = Failure("cached-result", f"{name} in trial {t} equals the expected result of an earlier "
                                               "trial: the candidate returns results from a previous call")
        return _in_trial(failure, t, trial)
    return None


def _matches_earlier(
    name: str, got: torch.Tensor, earlier: list[list[torch.Tensor]], task: KernelTask, trials: list[Trial],
    scale: float,
) -> bool:
    """Whether ``got`` is an earlier trial's expected result. The absolute tolerance is the smaller of the two
    trials' (against the "large" trial's, any output of magnitude one would match)."""
    for t, storages in enumerate(earlier):
        previous = live_outputs(sized(task, trials[t]), storages).get(name)
        if previous is None or previous.shape != got.shape:
            continue
        both = min(scale, input_scale(trials[t], str(got.dtype).removeprefix("torch.")))
        if compare(name, got, previous, both, Errors()) is None:
            return True
    return False


def _arg(task: KernelTask, param: str) -> KernelArg:
    return next(a for a in task.args if a.param == param)


def _in_trial(failure: Failure, index: int, trial: Trial) -> Failure:
    return Failure(failure.rule, f"trial {index} (seed {trial.seed}, {trial.label}): {failure.message}")


def tolerances_for(task: KernelTask) -> dict[str, list[float]]:
    """The tolerances that apply to this task's live float outputs, by dtype."""
    dtypes = {a.layout.dtype for a in task.tensor_args if a.layout and a.role in ("out", "in_out") and a.live}
    return {d: list(TOLERANCES[d]) for d in sorted(dtypes) if d in TOLERANCES}
