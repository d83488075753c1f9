"""Judging a candidate's outputs against the baseline's on identical inputs (data only; run in the judge).

The judge draws each trial's values into the memory it shares with the candidate's runner (``values.build``), runs
the baseline on its own copy, and checks the candidate's storages after its call, trial by trial, in order: guard
bands untouched (else ``out-of-bounds-write``), inputs unmodified unless their role is ``in_out`` (else
``input-mutated``), then every live output against the oracle. Scratch outputs (``live=False``) may hold anything
inside their own storage.

Tolerance policy (per output dtype, ``TOLERANCES`` = (atol, rtol)): an element passes when
``|candidate - oracle| <= atol * M + rtol * |oracle| + 2 * s``, where ``M`` is the mean magnitude of the oracle's
finite values in that output and ``s`` the dtype's smallest subnormal. The scale is the reference output's own,
not the inputs': an fp16 softmax (outputs in [0, 1]) gets about 1e-3 of absolute slack whatever the inputs' scale,
so an approximate ``exp`` off by 1.0 is a ``mismatch``, while a sum over large inputs gets slack in proportion to
its large result. fp32 is tight enough to catch a dropped term yet allows reordered sums and fused multiply-adds;
fp16/bf16 allow about one to two ulps plus accumulation-order noise; the subnormal term lets two implementations
round a subnormal result differently. Integer and bool outputs must match exactly; NaN and infinities must match
in place (and sign).
"""

from __future__ import annotations

import dataclasses

import torch

from ..task import KernelArg, KernelTask
from .values import (BAND_FILLS, Trial, TrialKind, as_bytes, guard_bands_intact, guard_fill, guard_of, poison, sized,
                     size_variants, view)

TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-9, 1e-9),
    "float32": (1e-5, 1e-5),
    "float16": (1e-3, 1e-3),
    "bfloat16": (1e-2, 1e-2),
}
# Comparisons run over slices of the outputs' first dimension of about this many elements, so their temporaries
# (float32 copies, masks) stay small next to the outputs themselves.
CHUNK_ELEMENTS = 1 << 20

# The default plan: several seeds and special values in some trials. Every trial runs on the same shared memory, so
# a result cached by pointer or by call count shows up as a stale (``cached-result``) output.
TRIAL_KINDS: tuple[TrialKind, ...] = ("normal", "large", "tiny", "negative-zero-rows", "scaled-rows", "specials",
                                      "offset")


def default_trials(base_seed: int, task: KernelTask | None = None) -> list[Trial]:
    """The trial plan; for a dynamic-shape ``task`` it ends with one normal trial at each of ``size_variants``. The
    trials take the guard bands' fills in turn (``BAND_FILLS``), the first the marking NaN."""
    plan: list[tuple[TrialKind, tuple[tuple[str, int], ...] | None]] = [(kind, None) for kind in TRIAL_KINDS]
    plan += [("normal", symbols) for symbols in (size_variants(task) if task is not None else [])]
    return [Trial(base_seed + i, kind, symbols=symbols, bands=BAND_FILLS[i % len(BAND_FILLS)])
            for i, (kind, symbols) in enumerate(plan)]


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
    """Guard bands intact, inputs unmodified and an output's storage between its elements untouched, for one
    trial's storages after the call. ``before`` is what they held before it: the trial's values as drawn, or the
    oracle's storages (already checked), which serve as well."""
    for arg, b, a in zip(sized(task, trial).tensor_args, before, after):
        if a.numel() != b.numel():
            return Failure("harness-error", f"{arg.param}: storage came back with {a.numel()} elements")
        if not guard_bands_intact(a, b, guard_of(arg, b)):
            return Failure("out-of-bounds-write", f"{arg.param}: memory just outside the buffer was written")
        if arg.role in ("out", "in_out") and not _gaps_intact(arg, a, b):
            return Failure("out-of-bounds-write", f"{arg.param}: the storage between the output's elements (the "
                                                  "gaps of its strided layout) was written")
        if arg.role == "in" and not torch.equal(as_bytes(a), as_bytes(b)):
            changed = int((as_bytes(a) != as_bytes(b)).sum())
            return Failure("input-mutated", f"input {arg.param} was modified ({changed} bytes changed)")
    return None


def _gaps_intact(arg: KernelArg, after: torch.Tensor, before: torch.Tensor) -> bool:
    """Whether the storage elements an output's view does not cover (the gaps of a strided layout: a slice of a KV
    cache, an ``out=`` view) hold what they held before the call. No one compares them, and they outlive the call:
    seen in review, a memo of whole inputs and outputs kept there, accepted at 1.46x."""
    assert arg.layout is not None
    if arg.layout.numel() == arg.layout.storage_elements():
        return True  # dense: the view covers its storage
    covered = torch.zeros(after.numel(), dtype=torch.bool, device=after.device)
    view(arg, covered).fill_(True)
    covered[: guard_of(arg, after)] = True  # the guard bands are checked on their own
    covered[after.numel() - guard_of(arg, after):] = True
    return torch.equal(as_bytes(after[~covered]), as_bytes(before[~covered]))


def live_outputs(task: KernelTask, storages: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    return {
        arg.param: view(arg, flat)
        for arg, flat in zip(task.tensor_args, storages)
        if arg.role in ("out", "in_out") and arg.live
    }


def _first_index(mask: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in mask.nonzero()[0])


def _chunks(got: torch.Tensor, want: torch.Tensor) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
    """Slices of the first dimension of both (start, got slice, want slice), each about CHUNK_ELEMENTS."""
    if got.dim() == 0 or got.numel() <= CHUNK_ELEMENTS:
        return [(0, got, want)]
    rows = max(1, CHUNK_ELEMENTS * got.shape[0] // got.numel())
    return [(r, got[r : r + rows], want[r : r + rows]) for r in range(0, got.shape[0], rows)]


def reference_magnitude(want: torch.Tensor) -> float:
    """Mean absolute value of the finite elements of a float reference output (0 if it has none)."""
    total, count = 0.0, 0
    for _, _, w in _chunks(want, want):
        w = w.to(torch.float64 if w.dtype == torch.float64 else torch.float32)
        finite = torch.isfinite(w)
        total += float(torch.where(finite, w.abs(), torch.zeros_like(w)).sum())
        count += int(finite.sum())
    return total / count if count else 0.0


def compare(name: str, got: torch.Tensor, want: torch.Tensor, errors: Errors) -> Failure | None:
    """One output against the oracle's (see the module's tolerance policy); updates ``errors`` with the largest
    finite differences."""
    if not want.dtype.is_floating_point:
        for start, g, w in _chunks(got, want):
            bad = g != w
            if bad.any():
                idx = _first_index(bad)
                return Failure("mismatch", f"{name}{_at(start, idx)}: got {g[idx].item()}, expected {w[idx].item()}"
                                           f" ({int(bad.sum())} elements differ in this slice)")
        return None
    dtype_name = str(want.dtype).removeprefix("torch.")
    atol, rtol = TOLERANCES.get(dtype_name, TOLERANCES["float32"])
    finfo = torch.finfo(want.dtype)
    absolute = atol * reference_magnitude(want) + 2 * finfo.tiny * finfo.eps
    for start, g, w in _chunks(got, want):
        if failure := _compare_chunk(name, start, g, w, absolute, rtol, errors):
            return failure
    return None


def _at(start: int, idx: tuple[int, ...]) -> list[int]:
    return [start + idx[0], *idx[1:]] if idx else []


def _compare_chunk(name: str, start: int, got: torch.Tensor, want: torch.Tensor, absolute: float, rtol: float,
                   errors: Errors) -> Failure | None:
    # float32 holds fp16/bf16/fp32 values exactly and their differences to far below any tolerance here; float64
    # would double the memory traffic of comparing large outputs.
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
        return Failure(rule, f"{name}{_at(start, idx)} {what}, expected {w[idx].item():g} "
                             f"({int(unwritten.sum())} of {w.numel()} elements in this slice)")
    special = ~torch.isfinite(w) | ~torch.isfinite(g)
    # NaN where the oracle has NaN, and infinities with the same sign at the same places.
    special_bad = special & ~((torch.isnan(g) & torch.isnan(w)) | (g == w))
    if special_bad.any():
        idx = _first_index(special_bad)
        return Failure("nan-inf-mismatch", f"{name}{_at(start, idx)}: got {g[idx].item()}, expected {w[idx].item()}")
    finite = ~special
    diff = torch.where(finite, (g - w).abs(), torch.zeros_like(g))
    tol = absolute + rtol * w.abs()
    if diff.numel():
        errors.max_abs = max(errors.max_abs, float(diff.max()))
        significant = finite & (w.abs() > absolute)
        if significant.any():
            errors.max_rel = max(errors.max_rel, float((diff[significant] / w.abs()[significant]).max()))
    bad = diff > tol
    if bad.any():
        idx = _first_index(bad)
        return Failure("mismatch", f"{name}{_at(start, idx)}: got {g[idx].item():.6g}, expected {w[idx].item():.6g} "
                                   f"(|diff| {diff[idx].item():.3g} > tol {tol[idx].item():.3g}; "
                                   f"{int(bad.sum())} of {w.numel()} elements in this slice)")
    return None


def judge_trial(
    task: KernelTask,
    trial: Trial,
    index: int,
    oracle: list[torch.Tensor],
    candidate: list[torch.Tensor],
    errors: Errors,
    earlier: list[tuple[Trial, list[torch.Tensor]]] = (),  # type: ignore[assignment]
) -> Failure | None:
    """The candidate's failure in trial number ``index`` (``candidate``: its storages after the call; ``oracle``:
    the baseline's), or None if it matched. ``earlier`` holds earlier trials' oracle storages, where the judge
    kept them: a mismatch equal to one of them is named ``cached-result``."""
    if failure := check_contract(task, trial, candidate, before=oracle):
        return _in_trial(failure, index, trial)
    at_size = sized(task, trial)
    want, got = live_outputs(at_size, oracle), live_outputs(at_size, candidate)
    for name in want:
        failure = compare(name, got[name], want[name], errors)
        if failure is None:
            continue
        if failure.rule == "mismatch" and _matches_earlier(name, got[name], earlier, task):
            failure = Failure("cached-result", f"{name} in trial {index} equals the expected result of an earlier "
                                               "trial: the candidate returns results from a previous call")
        return _in_trial(failure, index, trial)
    return None


def check_outputs(task: KernelTask, trial: Trial, oracle: list[torch.Tensor], candidate: list[torch.Tensor],
                  errors: Errors) -> Failure | None:
    """Contract and outputs of one call outside the trial plan (a timed call): the first failure, or None."""
    if failure := check_contract(task, trial, candidate, before=oracle):
        return failure
    at_size = sized(task, trial)
    want, got = live_outputs(at_size, oracle), live_outputs(at_size, candidate)
    for name in want:
        if failure := compare(name, got[name], want[name], errors):
            return failure
    return None


def _matches_earlier(name: str, got: torch.Tensor, earlier: list[tuple[Trial, list[torch.Tensor]]],
                     task: KernelTask) -> bool:
    """Whether ``got`` is an earlier trial's expected result."""
    for trial, storages in earlier:
        previous = live_outputs(sized(task, trial), storages).get(name)
        if previous is not None and previous.shape == got.shape and compare(name, got, previous, Errors()) is None:
            return True
    return False


def _arg(task: KernelTask, param: str) -> KernelArg:
    return next(a for a in task.args if a.param == param)


def _in_trial(failure: Failure, index: int, trial: Trial) -> Failure:
    return Failure(failure.rule, f"trial {index} (seed {trial.seed}, {trial.label}, {trial.bands} bands): "
                                 f"{failure.message}")


def tolerances_for(task: KernelTask) -> dict[str, list[float]]:
    """The tolerances that apply to this task's live float outputs, by dtype."""
    dtypes = {a.layout.dtype for a in task.tensor_args if a.layout and a.role in ("out", "in_out") and a.live}
    return {d: list(TOLERANCES[d]) for d in sorted(dtypes) if d in TOLERANCES}
