"""Timed calls that never see the same inputs twice: many argument sets, their inputs redrawn between samples.

A kernel that keeps what it computed and serves it again when the same inputs come back is fast only while they come
back. The proofs bound where such a memo can live (no static or heap state, the stack filled before every call), but
no proof of compiled code maps every address a pointer can reach: review 17 kept a memo 1 MiB below the kernel's
frame and was accepted at 10x. So the measurement takes its benefit away instead, wherever it lives: a timed batch
takes a different argument set in every call (``timing.TimedCalls``), and between samples the judge gives every set
in use inputs no call has seen (``Redraw``), in its own copy and then in the memory it shares with the candidate. A
memo then always misses, and a kernel that serves one anyway serves the wrong answer where a batch is compared.

Values are drawn anew, as a trial draws them (floats N(0, 1); integers over their legal range, specials included),
never derived from earlier ones: a cheap derivation (a window of one table at a fresh offset, say) has a structure a
kernel linear in its inputs could learn and shortcut (prefix sums of the table). Each set's draw has a generator of
its own, seeded from the operating system's secret randomness: a generator's state can be solved from its outputs
(review 18 recovered torch's MT19937 from one call's input and predicted the next 700 sets, accepted at 1.8-2.7x),
so no two draws may share one. The sets in use take at most ``TIMED_SET_BYTES``, a few milliseconds of drawing per
sample on CPU, within the measurement's deadline.
"""

from __future__ import annotations

import secrets
from typing import Any

import torch

from ..task import KernelArg, KernelTask
from .values import Storage, Trial, draw_input, flat_sizes, interior, sized

# What the timed sets beyond the first may take, per device: a batch is as long as the sets are many (a set per call),
# so fewer sets mean shorter batches, never repeated inputs.
TIMED_SET_BYTES = {"cpu": 16 << 20, "cuda": 1 << 30}
MAX_TIMED_SETS = 4096


def _redrawn(arg: KernelArg) -> bool:
    """The arguments a set has storage of its own for: what the kernel reads (outputs are shared by all sets)."""
    return arg.layout is not None and arg.role in ("in", "in_out")


def _own_sizes(task: KernelTask, trial: Trial) -> list[tuple[torch.dtype, int] | None]:
    """The storages a set has of its own (``flat_sizes`` of the arguments ``_redrawn``; None for the rest)."""
    return [size if _redrawn(arg) else None for arg, size in zip(task.args, flat_sizes(task, trial))]


def timed_set_count(task: KernelTask, trial: Trial, device_type: str) -> int:
    """How many argument sets the timed calls of ``task`` take: as many as ``TIMED_SET_BYTES`` holds, 2 at the
    least."""
    per_set = sum(n * dtype.itemsize for dtype, n in filter(None, _own_sizes(task, trial)))
    budget = TIMED_SET_BYTES.get(device_type, TIMED_SET_BYTES["cpu"])
    return max(2, min(MAX_TIMED_SETS, 1 + budget // max(per_set, 1)))


def timed_set_sizes(task: KernelTask, trial: Trial, count: int) -> list[tuple[torch.dtype, int] | None]:
    """The storages sets 1 to ``count - 1`` add to the trial's own (``flat_sizes``)."""
    return _own_sizes(task, trial) * (count - 1)


def timed_sets(task: KernelTask, flats: list[Any], count: int, storage: Storage) -> list[list[Any]]:
    """``flats`` and ``count - 1`` sets more, each with storages of its own for the inputs and in-outs (holding
    ``flats``' values, guard bands too, until the first ``Redraw``) and ``flats``' own storages for the outputs."""
    sets = [flats]
    for _ in range(count - 1):
        more = []
        for arg, flat in zip(task.args, flats):
            if isinstance(flat, torch.Tensor) and _redrawn(arg):
                copy = storage(flat.dtype, flat.numel())
                copy.copy_(flat)
                more.append(copy)
            else:
                more.append(flat)
        sets.append(more)
    return sets


class Redraw:
    """New inputs for the timed sets, the same in the judge's copy and the candidate's memory."""

    def __init__(self, task: KernelTask, trial: Trial, flats: list[Any]) -> None:
        self.drawn = [(position, arg, interior(arg, flat))
                      for position, (arg, flat) in enumerate(zip(sized(task, trial).args, flats))
                      if isinstance(flat, torch.Tensor) and _redrawn(arg)]
        self.device = next((f.device for f in flats if isinstance(f, torch.Tensor)), torch.device("cpu"))

    def __call__(self, ours: list[list[Any]], theirs: list[list[Any]], count: int) -> None:
        """Every input and in-out of sets 0 to ``count - 1`` drawn anew in ``ours``, then copied to ``theirs``."""
        for mine, shared in zip(ours[:count], theirs[:count]):
            generator = secret_generator(self.device)
            for position, arg, span in self.drawn:
                inside = mine[position][span]
                draw_input(inside, arg, generator)
                shared[position][span] = inside  # the judge's values to the candidate only


def secret_generator(device: torch.device) -> torch.Generator:
    """A generator for one draw a kernel will see, seeded from the operating system's secret randomness."""
    return torch.Generator(device=device).manual_seed(secrets.randbits(63))
