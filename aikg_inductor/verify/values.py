"""Argument values for one verification trial, built bit for bit from a small spec on the kernel's device.

Only the spec travels to the worker; it draws the values where the kernel runs (on a GPU, the GPU's own generator),
so no input crosses the host. Every tensor lives inside a larger flat storage with guard bands on both sides: a write
past a buffer changes a band (an out-of-bounds write). What a band holds changes from trial to trial (``BAND_FILLS``):
a kernel must not be able to tell the judge's memory from a user's, where whatever lies before and after an input
is anything (review 12: a kernel right only where it found the band's public NaN was accepted). Some trials mark the
bands with a NaN of their own payload, so a read past a buffer shows as that NaN in the result.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from typing import Callable, Literal

import torch

from ..task import IntRange, KernelArg, KernelTask

# Integer inputs whose legal range the task does not know (``KernelArg.int_range`` None or not ``known``: a task
# recorded before ranges were, or an index computed from the input) are drawn in [0, INT_INPUT_HIGH), their special
# values apart: small non-negative values stay in range for any dimension of at least this size, so the baseline is
# never sent out of bounds.
INT_INPUT_HIGH = 4
# Integer inputs that may hold any value (used only in arithmetic and comparisons) are drawn in
# [-VALUE_MAGNITUDE, VALUE_MAGNITUDE): wide enough that a kernel assuming a byte's range or a few low bits is wrong,
# small enough that a cube of such values still fits in int32 (an overflow would make both sides' results
# undefined, not the candidate wrong). An index range's open side (a clamp maps every value there into the
# dimension) reaches this far past its bound.
VALUE_MAGNITUDE = 1024
# Integer inputs that may hold any value also take, at a 1/WIDE_SHARE of their places, values of magnitude drawn
# log-uniformly from VALUE_MAGNITUDE up to WIDE_MAGNITUDE, either sign: past every narrower integer dtype and every
# float that would hold them exactly (review 20: int64 counts added in int32 lanes passed every trial at +-1024;
# review 21: int64 added in float64 and int32 in float32 passed at up to 3e9 and 46340). A sum of two still fits; a
# product may wrap, the same bits in the baseline and the candidate.
WIDE_MAGNITUDE = {torch.int64: 2**61, torch.int32: 2**29, torch.int16: 2**13}
WIDE_SHARE = 8
# The share of an integer input's elements that hold its special values (``IntRange.specials``), drawn per trial in
# this range: about as many as the padding of a real batch, few enough that most elements still vary.
SPECIAL_SHARE = (0.10, 0.25)


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype a task records by name ("float16")."""
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"unknown dtype {name!r} in task")
    return dtype

TrialKind = Literal["normal", "large", "tiny", "negative-zero-rows", "scaled-rows", "offset", "specials"]
# What the guard bands of a trial's storages hold: the marking NaN (``guard_fill``: a read past a buffer is named
# ``out-of-bounds-read``), random bytes, values drawn like data, or zeros (fresh memory in a user's process). A trial
# plan takes them in turn (``correctness.default_trials``), timed calls by their seed (``timing_trial``): a kernel
# that computes right only for some band contents is wrong in some trial, or in a checked timed call.
BandFill = Literal["marked", "random", "data", "zeros"]
BAND_FILLS: tuple[BandFill, ...] = ("marked", "random", "data", "zeros")

# Bytes of guard band on each side of every tensor: wider than any vector register, so an off-by-one vector store
# lands in the band rather than in a neighbouring allocation.
GUARD_BYTES = 4096

# Magnitudes of the "large" and "tiny" trials per float dtype: large stresses overflow handling (an unstabilised
# exp overflows), tiny sits near the subnormal range; both stay finite for the dtype.
LARGE = {"float64": 1e6, "float32": 1e6, "bfloat16": 1e6, "float16": 1e3}
TINY = {"float64": 1e-30, "float32": 1e-30, "bfloat16": 1e-30, "float16": 1e-5}
# The "offset" trial: N(0, 1) around this mean (one-pass variance, E[x^2] - E[x]^2, loses everything there; a
# shortcut that only holds near zero is caught). The "scaled-rows" trial: row r times 10^(r % 7 - 3), so rows of
# very different magnitude sit side by side (an approximation that holds on one range only, a tolerance that
# follows the large rows). Both found in review: a softmax exp that was 0 below -1.5, a one-pass layer norm.
OFFSET = {"float64": 1e3, "float32": 1e3, "bfloat16": 1e2, "float16": 1e2}
ROW_SCALES = 7
# The "specials" trial (review 20: a relu that turned NaN into 0, a logsumexp that lost Inductor's guard for rows of
# -inf): values shaped as one of SPECIALS_BASES' trials (drawn), then NaN, infinities and -0.0 in the shapes real
# tensors hold them (``put_specials``). A tensor of fewer than four rows gets them at one place in SPECIALS_SPACING.
SPECIAL_FLOATS = (float("nan"), float("inf"), float("-inf"), -0.0)
SPECIALS_SPACING = 64
SPECIALS_BASES: tuple[TrialKind, ...] = ("normal", "large", "tiny", "scaled-rows", "offset")


@dataclasses.dataclass(frozen=True)
class Trial:
    """One correctness trial: fresh inputs from ``seed`` shaped by ``kind``."""

    seed: int
    kind: TrialKind = "normal"
    # Dynamic-shape tasks: run at these symbol values instead of the recorded ones (see ``sized``).
    symbols: tuple[tuple[str, int], ...] | None = None
    bands: BandFill = "marked"

    @property
    def label(self) -> str:
        """The kind, and the sizes when they are not the recorded ones: "normal at s27=51, s77=67"."""
        if not self.symbols:
            return self.kind
        return f"{self.kind} at " + ", ".join(f"{name}={value}" for name, value in self.symbols)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Trial:
        symbols = data.get("symbols")
        if symbols is not None:
            data = {**data, "symbols": tuple((str(k), int(v)) for k, v in symbols)}  # type: ignore[union-attr]
        return cls(**data)  # type: ignore[arg-type]


# Size variants of dynamic-shape tasks. Near ones (every symbol 3 above, then 3 below, its recorded value) run the
# masked tails of a kernel whose recorded sizes are multiples of its blocks. Aligned ones keep the recorded size's
# alignment and change its value (review 12: a kernel whose no-tail path, taken when the columns are a multiple of
# 16, was hard-coded to the recorded 48 passed every odd variant): v plus its largest power-of-two divisor (48 ->
# 64, a multiple of everything 48 is a multiple of among powers of two), the next power of two (the sizes models
# have), 2v (a multiple of v itself). Far ones (review 11: a softmax exact for rows of up to 64 columns, wrong
# beyond, passed at 45 and 51 around the recorded 48) run it about twice as large and very small.
SMALL_SIZE = 3  # odd, and above the 0 and 1 Inductor specialises
# A variant's storages (``flat_sizes``) may take at most this many times the recorded trial's, or
# VARIANT_FREE_BYTES, whichever is more: a small kernel is tried at twice its size, a large one only as large as the
# judge's memory bound allows (the arena and the oracle's copy each about twice the kernel's own arguments, as the
# timed trial's partner inputs already make the arena). A trial at a smaller size takes up to twice the recorded
# storages too: its guard bands widen by the difference.
VARIANT_BYTES_FACTOR = 2
VARIANT_FREE_BYTES = 64 * 2**20
# Where a symbol grown alone does not fit, it grows by half as much, then a quarter, and is left out after that.
_GROWTHS = 3

Symbols = tuple[tuple[str, int], ...]


def size_variants(task: KernelTask) -> list[Symbols]:
    """Other sizes to run a dynamic-shape kernel at, in order, the cheaper first within each group:

    1. near: every symbol 3 above its recorded value, then 3 below (5 above where that would go under 2, which
       Inductor specialises);
    2. aligned: every symbol at v + its largest power-of-two divisor, then at the next power of two above v, then
       at 2v; where one does not fit the byte budget, each symbol alone at it with the others at their recorded
       values (v + half the divisor, then a quarter, where even the first does not fit);
    3. far: every symbol at 2v+3 (where that does not fit, each symbol grown alone with the others at
       SMALL_SIZE, less where even that does not fit), then every symbol at SMALL_SIZE.

    Variants over the budget, or equal to the recorded sizes or to an earlier variant, are left out: at most 7
    where every growth fits with all symbols grown together (6 at 64x48: 48 + 16 and the power of two above 48
    are both 64), 3 + 4 per symbol where none does."""
    if not task.dynamic or not task.symbols:
        return []
    budget = max(VARIANT_BYTES_FACTOR * _storage_bytes(task, task.symbols), VARIANT_FREE_BYTES)
    up = tuple((name, value + 3) for name, value in task.symbols)
    down = tuple((name, value - 3 if value - 3 >= 2 else value + 5) for name, value in task.symbols)
    small = tuple((name, SMALL_SIZE) for name, _ in task.symbols)
    aligned = (_grown(task, budget, grow, others=None) for grow in (_plus_divisor, _next_power_of_two, _doubled))
    variants: list[Symbols] = []
    for symbols in (up, down, *itertools.chain(*aligned), *_grown(task, budget, _far, others=SMALL_SIZE), small):
        if symbols not in (task.symbols, *variants) and _storage_bytes(task, symbols) <= budget:
            variants.append(symbols)
    return variants


# Growths of one symbol's value: the sizes to try it at, the largest first (the less grown ones are for where the
# largest does not fit).
def _plus_divisor(value: int) -> tuple[int, ...]:
    """v + its largest power-of-two divisor (48 -> 64), then + half of it, then + a quarter (never + less than 1)."""
    return tuple(value + max((value & -value) >> shrink, 1) for shrink in range(_GROWTHS))


def _next_power_of_two(value: int) -> tuple[int, ...]:
    return (1 << value.bit_length(),)


def _doubled(value: int) -> tuple[int, ...]:
    return (2 * value,)


def _far(value: int) -> tuple[int, ...]:
    """2v+3, then v+(v+3)/2, then v+(v+3)/4, always odd."""
    return tuple((value + (value + 3) // 2**shrink) | 1 for shrink in range(_GROWTHS))


def _grown(task: KernelTask, budget: int, grow: Callable[[int], tuple[int, ...]], others: int | None
           ) -> list[Symbols]:
    """Every symbol at its largest growth if that fits ``budget``; else, for each symbol, the first of its growths
    that fits with the other symbols at ``others`` (their recorded values where None); none where none fits."""
    together = tuple((name, grow(value)[0]) for name, value in task.symbols)
    if _storage_bytes(task, together) <= budget:
        return [together]
    alone = []
    for name, value in task.symbols:
        tries = (tuple((other, grown if other == name else others or recorded) for other, recorded in task.symbols)
                 for grown in grow(value))
        if fitting := next((symbols for symbols in tries if _storage_bytes(task, symbols) <= budget), None):
            alone.append(fitting)
    return alone


def _storage_bytes(task: KernelTask, symbols: tuple[tuple[str, int], ...]) -> int:
    """Bytes of the flat storages a trial of ``task`` at ``symbols`` takes."""
    return sum(n * dtype.itemsize for dtype, n in filter(None, flat_sizes(task, Trial(0, symbols=symbols))))


def sized(task: KernelTask, trial: Trial) -> KernelTask:
    """``task`` as the kernel sees it in ``trial``: layouts and size values at the trial's symbol values."""
    if not trial.symbols or not task.dynamic:
        return task
    return _sized(task, trial.symbols)


@functools.lru_cache(maxsize=32)
def _sized(task: KernelTask, symbols: tuple[tuple[str, int], ...]) -> KernelTask:
    from ..torch_internals.kernels import evaluate_size

    values = dict(symbols)
    args = []
    for arg in task.args:
        if arg.expr is not None:
            arg = dataclasses.replace(arg, value=evaluate_size(arg.expr, values))
        elif arg.layout is not None and arg.layout.sym_size is not None:
            layout = arg.layout
            assert layout.sym_stride is not None and layout.sym_offset is not None
            arg = dataclasses.replace(arg, layout=dataclasses.replace(
                layout, size=tuple(evaluate_size(e, values) for e in layout.sym_size),
                stride=tuple(evaluate_size(e, values) for e in layout.sym_stride),
                offset=evaluate_size(layout.sym_offset, values)))
        if arg.int_range is not None and arg.int_range.sym_high is not None:
            bounds = arg.int_range
            assert bounds.sym_low is not None
            arg = dataclasses.replace(arg, int_range=dataclasses.replace(
                bounds, low=evaluate_size(bounds.sym_low, values), high=evaluate_size(bounds.sym_high, values)))
        args.append(arg)
    return dataclasses.replace(task, args=tuple(args))


def guard_elements(dtype: torch.dtype) -> int:
    return max(GUARD_BYTES // dtype.itemsize, 1)


def poison(dtype: torch.dtype) -> float | int | bool:
    """What output buffers are pre-filled with: an element still holding it was never written."""
    return float("nan") if dtype.is_floating_point else (True if dtype == torch.bool else -7)


# Guard bands of float buffers hold a NaN with its own payload (quiet, so arithmetic carries it along unchanged):
# a NaN with this payload in an output was read from outside some buffer.
_GUARD_NAN_BITS = {torch.float64: (torch.int64, 0x7FF800000000AB1D), torch.float32: (torch.int32, 0x7FC0AB1D),
                   torch.float16: (torch.int16, 0x7E1D), torch.bfloat16: (torch.int16, 0x7FDD)}


def timing_trial(seed: int) -> Trial:
    """The trial a measurement's timed calls run on: recorded sizes, and bands that change with the seed like a
    trial plan's, so a kernel keyed on band contents behaves while timed as it would in some trial (and the checked
    timed calls see it)."""
    return Trial(seed, bands=BAND_FILLS[seed % len(BAND_FILLS)])


def guard_fill(dtype: torch.dtype, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    if dtype in _GUARD_NAN_BITS:
        int_dtype, bits = _GUARD_NAN_BITS[dtype]
        return torch.full((n,), bits, dtype=int_dtype, device=device).view(dtype)
    return torch.full((n,), poison(dtype), dtype=dtype, device=device)


def _fill_interior(interior: torch.Tensor, arg: KernelArg, trial: Trial, generator: torch.Generator) -> None:
    """Draw ``arg``'s values for ``trial`` into ``interior`` in place, in the kernel's own dtype (a float64 copy of
    a large tensor would cost several times its size)."""
    assert arg.layout is not None
    if arg.role == "out":
        interior.fill_(poison(interior.dtype))
        return
    draw_input(interior, arg, generator)
    if interior.dtype.is_floating_point:
        _shape(interior, arg, trial.kind, generator)


def draw_input(values: torch.Tensor, arg: KernelArg, generator: torch.Generator) -> None:
    """``arg``'s input values drawn into ``values`` in place as a normal trial draws them: integers and bools over
    their legal range (``draw_integers``), floats N(0, 1)."""
    if values.dtype == torch.bool or not values.dtype.is_floating_point:
        draw_integers(values, arg, generator)
    else:
        values.normal_(generator=generator)


def integer_bounds(arg: KernelArg) -> tuple[int, int]:
    """The half-open range ``[low, high)`` an integer or bool input's values are drawn from: an index's whole legal
    range, ``VALUE_MAGNITUDE`` past it on a side a clamp opens, the wide ``VALUE_MAGNITUDE`` range for one that may
    hold any value, the small default where the range is not known; never beyond what the dtype holds (an int8
    index into 1000 rows reaches -128..127)."""
    assert arg.layout is not None
    dtype = torch_dtype(arg.layout.dtype)
    if dtype == torch.bool:
        return 0, 2
    bounds: IntRange | None = arg.int_range
    if bounds is None or not bounds.known:
        return 0, INT_INPUT_HIGH
    if bounds.is_index:
        assert bounds.low is not None and bounds.high is not None
        low = bounds.low - VALUE_MAGNITUDE if bounds.open_below else bounds.low
        high = bounds.high + VALUE_MAGNITUDE if bounds.open_above else bounds.high
    else:
        low, high = -VALUE_MAGNITUDE, VALUE_MAGNITUDE
    info = torch.iinfo(dtype)
    return max(low, info.min), min(high, info.max + 1)


def special_values(arg: KernelArg) -> tuple[int, ...]:
    """The values ``arg``'s kernel singles out (``IntRange.specials``: cross-entropy's ignore_index) that its
    dtype holds."""
    assert arg.layout is not None
    dtype = torch_dtype(arg.layout.dtype)
    if arg.int_range is None or dtype == torch.bool:
        return ()
    info = torch.iinfo(dtype)
    return tuple(v for v in arg.int_range.specials if info.min <= v <= info.max)


def draw_integers(values: torch.Tensor, arg: KernelArg, generator: torch.Generator) -> None:
    """Draw ``arg``'s integer (or bool) values into ``values`` in place: uniform over ``integer_bounds``, with the
    range's ends, 0 and -1 (where legal) at random places: a kernel wrong only at a bound (the last row, a wrapped
    negative index) is wrong on every trial. The special values (``special_values``) are each put in once too,
    and take a share in SPECIAL_SHARE's range of all places: a kernel that skips their handling (the ignore_index
    test of cross-entropy) is wrong on every trial, as on every padded batch. A tensor too small for all of these
    gets a random few of them."""
    low, high = integer_bounds(arg)
    if high <= low:  # an index into an empty dimension: no value is legal, and none is read
        values.zero_()
        return
    values.random_(low, high, generator=generator)
    _put_wide(values, arg, generator)
    ends = sorted({low, high - 1} | {v for v in (0, -1) if low <= v < high})
    specials = special_values(arg)
    fixed = torch.tensor(ends + list(specials))
    if fixed.numel() > values.numel():  # too few elements for all: a different few in each trial
        fixed = fixed[torch.randperm(fixed.numel(), generator=generator, device=values.device).cpu()]
    places = torch.randperm(values.numel(), generator=generator, device=values.device)
    _put(values, places[: fixed.numel()], fixed)
    if specials:
        lowest, highest = SPECIAL_SHARE
        share = lowest + (highest - lowest) * float(torch.rand((), generator=generator, device=values.device))
        more = places[fixed.numel():][: max(round(share * values.numel()) - len(specials), 0)]
        _put(values, more, torch.tensor(specials)[torch.arange(more.numel()) % len(specials)])


def _put_wide(values: torch.Tensor, arg: KernelArg, generator: torch.Generator) -> None:
    """Values up to ``WIDE_MAGNITUDE`` at a share of the places of an input that may hold any value."""
    wide = WIDE_MAGNITUDE.get(values.dtype)
    if wide is None or arg.int_range is None or not arg.int_range.known or arg.int_range.is_index:
        return
    places = torch.randperm(values.numel(), generator=generator, device=values.device)
    places = places[: max(values.numel() // WIDE_SHARE, 1)]
    # float64 draws of the exponent; the magnitudes themselves are made exactly in the integer dtype.
    exponents = torch.rand(places.numel(), generator=generator, device=values.device, dtype=torch.float64)
    low, high = math.log2(VALUE_MAGNITUDE), math.log2(wide)
    magnitudes = torch.exp2(low + (high - low) * exponents).to(values.dtype)
    # Low bits drawn too: a magnitude from exp2 alone ends in zeros past float64's 53 bits.
    magnitudes = magnitudes ^ torch.randint(0, VALUE_MAGNITUDE, (places.numel(),), generator=generator,
                                            device=values.device, dtype=values.dtype)
    signs = torch.randint(0, 2, (places.numel(),), generator=generator, device=values.device, dtype=values.dtype)
    values[places] = magnitudes * (1 - 2 * signs)


def _put(values: torch.Tensor, places: torch.Tensor, chosen: torch.Tensor) -> None:
    """``values`` at ``places`` (distinct positions) set to the first of ``chosen``, as many as there are places."""
    values[places] = chosen[: places.numel()].to(values.dtype).to(values.device)


def _shape(values: torch.Tensor, arg: KernelArg, kind: TrialKind, generator: torch.Generator) -> None:
    assert arg.layout is not None
    name = arg.layout.dtype
    if kind == "large":
        values.mul_(LARGE.get(name, 1.0))
    elif kind == "tiny":
        values.mul_(TINY.get(name, 1.0))
    elif kind == "offset":
        values.add_(OFFSET.get(name, 0.0))
    elif kind == "scaled-rows":
        rows = _rows(values, arg)
        exponents = torch.arange(rows.shape[0], device=values.device) % ROW_SCALES - ROW_SCALES // 2
        rows.mul_(torch.pow(10.0, exponents.to(torch.float64)).to(values.dtype).unsqueeze(1))
    elif kind == "negative-zero-rows":
        values.abs_().neg_()
        # Every third row (of the innermost dimension) is all zeros: reductions over zeros, 0/0 paths, empty maxima.
        _rows(values, arg)[::3] = 0.0
    elif kind == "specials":
        _shape(values, arg, SPECIALS_BASES[_below(len(SPECIALS_BASES), generator, values.device)], generator)
        put_specials(values, arg, generator)


def put_specials(values: torch.Tensor, arg: KernelArg, generator: torch.Generator) -> None:
    """NaN, infinities and -0.0 (``SPECIAL_FLOATS``) in float ``values``, in the shapes real tensors hold them: rows of
    the innermost size each of a drawn sort (``ROW_SORTS``), and, half the time, a column or two of -inf across every
    row (a mask along the other dimension). How many of each, and where, is drawn, so no pattern tells these inputs
    from a user's (review 21 turned rows of two NaNs into zeros: the judge drew one NaN a row at most)."""
    rows = _rows(values, arg)
    count, width = rows.shape
    if count < 4 or width == 0:
        _scatter_specials(values, generator)
        return
    device = values.device
    weights = torch.tensor([w for _, w in ROW_SORTS], device=device).cumsum(0)
    sorts = torch.bucketize(torch.rand(count, generator=generator, device=device) * weights[-1], weights, right=True)
    order = torch.randperm(count, generator=generator, device=device)
    names = [name for name, _ in ROW_SORTS]
    sorts[order[0]], sorts[order[1]] = names.index("finite"), names.index("spotted")  # one of each, at least
    for name, fill in (("masked", float("-inf")), ("nan", float("nan")), ("inf", float("inf"))):
        rows[sorts == names.index(name)] = fill
    for name in ("prefix", "suffix"):
        _put_mask_run(rows, (sorts == names.index(name)).nonzero().flatten(), name == "prefix", generator)
    spotted = (sorts == names.index("spotted")).nonzero().flatten()
    for special in SPECIAL_FLOATS:
        _spot(rows, spotted, special, generator)
    if _below(2, generator, device):
        columns = torch.randint(0, width, (1 + _below(2, generator, device),), generator=generator, device=device)
        rows[:, columns] = float("-inf")


# The sorts of rows the specials trial draws, with their weights: kept finite; wholly -inf (a masked row); -inf from
# the start or to the end (a padding or causal mask); wholly NaN (what one NaN becomes after a norm or a matmul);
# wholly +inf; spotted (each special at 0, 1, a few or most places).
ROW_SORTS = (("finite", 2.0), ("masked", 1.0), ("prefix", 1.0), ("suffix", 1.0), ("nan", 0.5), ("inf", 0.5),
             ("spotted", 4.0))
# How many places a spotted row gives one special: none, one, a few (up to SPOT_FEW), or most (SPOT_MOST of them).
SPOT_FEW = 8
SPOT_MOST = 0.6


def _put_mask_run(rows: torch.Tensor, which: torch.Tensor, from_start: bool, generator: torch.Generator) -> None:
    """-inf over a drawn run of each row in ``which``: from its start, or to its end."""
    if not which.numel():
        return
    width = rows.shape[1]
    cut = torch.randint(1, max(width, 2), (which.numel(), 1), generator=generator, device=rows.device)
    columns = torch.arange(width, device=rows.device)
    inside = columns < cut if from_start else columns >= width - cut
    chosen = rows[which]
    chosen[inside] = float("-inf")
    rows[which] = chosen


def _spot(rows: torch.Tensor, which: torch.Tensor, special: float, generator: torch.Generator) -> None:
    """``special`` at a drawn number of places in each row in ``which``; at least one place in the first."""
    if not which.numel():
        return
    device, width = rows.device, rows.shape[1]
    kind = torch.randint(0, 4, (which.numel(),), generator=generator, device=device)  # none, one, a few, most
    kind[0] = kind[0].clamp(min=1)
    few = torch.randint(2, SPOT_FEW + 1, (which.numel(),), generator=generator, device=device)
    places = torch.where(kind == 1, torch.ones_like(few), torch.where(kind == 2, few, torch.zeros_like(few)))
    columns = torch.randint(0, width, (which.numel(), SPOT_FEW), generator=generator, device=device)
    used = torch.arange(SPOT_FEW, device=device) < places.unsqueeze(1)
    flat = rows.view(-1)
    flat[(which.unsqueeze(1) * width + columns)[used]] = special
    most = which[kind == 3]
    if most.numel():
        chosen = rows[most]
        chosen[torch.rand(chosen.shape, generator=generator, device=device) < SPOT_MOST] = special
        rows[most] = chosen


def _scatter_specials(values: torch.Tensor, generator: torch.Generator) -> None:
    """A tensor of fewer than four rows: each special at one place at least (a tensor of fewer elements: as many as
    fit), more at one place in ``SPECIALS_SPACING`` drawn among them."""
    device = values.device
    places = torch.randperm(values.numel(), generator=generator, device=device)
    places = places[: max(values.numel() // SPECIALS_SPACING, len(SPECIAL_FLOATS))]
    drawn = torch.randint(0, len(SPECIAL_FLOATS), (places.numel(),), generator=generator, device=device).cpu()
    every = torch.randperm(len(SPECIAL_FLOATS), generator=generator, device=device).cpu()
    first = min(len(SPECIAL_FLOATS), places.numel())  # a tensor of fewer elements gets a drawn few of them
    drawn[:first] = every[:first]
    _put(values, places, torch.tensor(SPECIAL_FLOATS)[drawn])


def _below(n: int, generator: torch.Generator, device: torch.device) -> int:
    """A number in [0, n) drawn by ``generator`` (0 when n < 1)."""
    return int(torch.randint(0, max(n, 1), (), generator=generator, device=device))


def _rows(values: torch.Tensor, arg: KernelArg) -> torch.Tensor:
    """``values`` as rows of the layout's innermost size (a tail shorter than a row left out)."""
    assert arg.layout is not None
    row = arg.layout.size[-1] if arg.layout.size and arg.layout.size[-1] > 0 else 1
    return values[: values.numel() // row * row].view(-1, row)


Storage = Callable[[torch.dtype, int], torch.Tensor]


def flat_sizes(task: KernelTask, trial: Trial) -> list[tuple[torch.dtype, int] | None]:
    """Per argument, the dtype and element count of the flat storage ``build`` makes for it (None: not a tensor)."""
    sizes: list[tuple[torch.dtype, int] | None] = []
    for recorded, arg in zip(task.args, sized(task, trial).args):
        if arg.layout is None:
            sizes.append(None)
            continue
        assert recorded.layout is not None
        dtype = torch_dtype(arg.layout.dtype)
        interior = max(arg.layout.storage_elements(), 1)
        guard = guard_elements(dtype) + max(0, recorded.layout.storage_elements() - arg.layout.storage_elements())
        sizes.append((dtype, interior + 2 * guard))
    return sizes


def build(task: KernelTask, trial: Trial, device: torch.device | str = "cpu",
          storage: Storage | None = None) -> list[torch.Tensor | int | None]:
    """Flat guarded storages for tensor arguments and the values of size arguments, in call order, at the trial's
    sizes (``sized``). ``storage(dtype, n)`` gives the memory to fill (default: new tensors on ``device``), e.g. a
    slice of memory shared with a candidate runner. Where the trial's sizes are smaller than the recorded ones, the
    guard bands grow by the difference: a kernel that hard-codes the recorded sizes then writes into a band, not
    into a neighbouring allocation. The same spec on the same kind of device gives the same bits."""
    storage = storage or (lambda dtype, n: torch.empty(n, dtype=dtype, device=device))
    flats: list[torch.Tensor | int | None] = []
    generators: _Generators | None = None
    for arg, size in zip(sized(task, trial).args, flat_sizes(task, trial)):
        if size is None:
            flats.append(arg.value)
            continue
        flat = storage(*size)
        generators = generators or _generators(flat.device, trial.seed)
        _fill_flat(flat, arg, trial, generators)
        flats.append(flat)
    return flats


# Seed the second argument set of timed calls, and the bands, apart from the trial's own values.
_PARTNER_SEED = 0x5EED_0FF
_BAND_SEED = 0xBA4D


@dataclasses.dataclass
class _Generators:
    values: torch.Generator
    bands: torch.Generator


def _generators(device: torch.device, seed: int) -> _Generators:
    return _Generators(torch.Generator(device=device).manual_seed(seed),
                       torch.Generator(device=device).manual_seed(seed ^ _BAND_SEED))


def _fill_flat(flat: torch.Tensor, arg: KernelArg, trial: Trial, generators: _Generators) -> None:
    inside = interior(arg, flat)
    _fill_band(flat[: inside.start], trial.bands, generators.bands)
    _fill_band(flat[inside.stop :], trial.bands, generators.bands)
    _fill_interior(flat[inside], arg, trial, generators.values)


def _fill_band(band: torch.Tensor, fill: BandFill, generator: torch.Generator) -> None:
    """``band`` filled as ``fill`` says (``BAND_FILLS``); "data" is what an input of its dtype may hold: N(0, 1) for
    floats, small non-negative integers (any integer dtype holds them), bools. A bool holds 0 or 1 only, random or
    not (torch copies any other byte as 1)."""
    if fill == "marked":
        band.copy_(guard_fill(band.dtype, band.numel(), band.device))
    elif fill == "zeros":
        band.zero_()
    elif fill == "random" and band.dtype != torch.bool:
        as_bytes(band).random_(0, 256, generator=generator)
    elif band.dtype.is_floating_point:
        band.normal_(generator=generator)
    else:
        band.random_(0, 2 if band.dtype == torch.bool else 128, generator=generator)


def timing_partner(task: KernelTask, trial: Trial, flats: list[torch.Tensor | int | None],
                   storage: Storage | None = None) -> list[torch.Tensor | int | None]:
    """The argument set timed calls take in turn with ``flats`` (``timing.TimedCalls``): every input drawn afresh,
    in storages of its own, every output and in-out the very storage it has in ``flats``."""
    partner: list[torch.Tensor | int | None] = []
    generators: _Generators | None = None
    for arg, flat in zip(sized(task, trial).args, flats):
        if not isinstance(flat, torch.Tensor) or arg.role != "in":
            partner.append(flat)
            continue
        fresh = storage(flat.dtype, flat.numel()) if storage else torch.empty_like(flat)
        generators = generators or _generators(flat.device, trial.seed ^ _PARTNER_SEED)
        _fill_flat(fresh, arg, trial, generators)
        partner.append(fresh)
    return partner


def partner_sizes(task: KernelTask, trial: Trial) -> list[tuple[torch.dtype, int] | None]:
    """The storages ``timing_partner`` adds to the trial's own (``flat_sizes``): one per input."""
    return [size if arg.role == "in" else None for arg, size in zip(task.args, flat_sizes(task, trial))]


def _tensors_where(task: KernelTask, values: list[torch.Tensor | int | None],
                   wanted: Callable[[KernelArg], bool]) -> list[torch.Tensor]:
    return [v for arg, v in zip(task.args, values) if isinstance(v, torch.Tensor) and wanted(arg)]


def scratch_outputs(task: KernelTask, values: list[torch.Tensor | int | None]) -> list[torch.Tensor]:
    """The scratch outputs among a call's ``values``: written by the kernel, never read after it."""
    return _tensors_where(task, values, lambda arg: arg.role == "out" and not arg.live)


def live_out_values(task: KernelTask, values: list[torch.Tensor | int | None]) -> list[torch.Tensor]:
    """The live outputs among a call's ``values``: written by the kernel and read after it (its answers)."""
    return _tensors_where(task, values, lambda arg: arg.role == "out" and arg.live)


def in_out_values(task: KernelTask, values: list[torch.Tensor | int | None]) -> list[torch.Tensor]:
    """The in-out arguments among a call's ``values``: read and written by the kernel, one storage in every set."""
    return _tensors_where(task, values, lambda arg: arg.role == "in_out")


def view(arg: KernelArg, flat: torch.Tensor) -> torch.Tensor:
    """The tensor the kernel sees: the recorded layout placed just after the leading guard band."""
    assert arg.layout is not None
    # as_strided's offset counts from the start of the storage, which a flat carved from an arena does not own.
    return flat.as_strided(arg.layout.size, arg.layout.stride,
                           flat.storage_offset() + arg.layout.offset + guard_of(arg, flat))


def guard_of(arg: KernelArg, flat: torch.Tensor) -> int:
    """Elements of guard band on each side of ``flat``, the storage ``build`` made for ``arg`` (at the same sizes)."""
    assert arg.layout is not None
    return (flat.numel() - max(arg.layout.storage_elements(), 1)) // 2


def interior(arg: KernelArg, flat: torch.Tensor) -> slice:
    """Where ``arg``'s values lie in ``flat``, between its guard bands."""
    assert arg.layout is not None
    guard = guard_of(arg, flat)
    return slice(guard, guard + max(arg.layout.storage_elements(), 1))


def call_values(task: KernelTask, flats: list[torch.Tensor | int | None]) -> list[torch.Tensor | int | None]:
    return [view(arg, flat) if isinstance(flat, torch.Tensor) else flat for arg, flat in zip(task.args, flats)]


def as_bytes(flat: torch.Tensor) -> torch.Tensor:
    """The storage reinterpreted as bytes: bitwise comparisons that treat NaN payloads as values (a 0-dim tensor, a
    loss, as one element: torch cannot reinterpret a 0-dim tensor's dtype)."""
    return flat.reshape(-1).view(torch.uint8)


def guard_bands_intact(after: torch.Tensor, before: torch.Tensor, guard: int | None = None) -> bool:
    guard = guard_elements(after.dtype) if guard is None else guard
    return torch.equal(as_bytes(after[:guard]), as_bytes(before[:guard])) and torch.equal(
        as_bytes(after[-guard:]), as_bytes(before[-guard:])
    )
