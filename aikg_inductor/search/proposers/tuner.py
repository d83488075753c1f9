"""The config tuner: no LLM, Inductor's own Triton kernel with other launch configurations.

Inductor decorates each Triton kernel with a heuristic (``pointwise``, ``reduction``, ``persistent_reduction``) that
picks a few launch configurations at run time. The tuner keeps the kernel body and replaces that decorator by
``triton_heuristics.fixed_config`` with one configuration (block sizes per dimension, warps, stages), so a winning
candidate has no run-time autotuning left. A looped reduction whose ``R0_BLOCK`` covers the whole reduction runs
its loops once: the persistent shape, reached by configuration alone.

The search, in the order candidates are offered:
1. **Inductor's own configurations**: those its heuristic gives this kernel (its run-time autotuner picks one of
   them: that pick is Inductor's default kernel, the verifier's baseline), then the wider set max-autotune
   benchmarks. They come from Inductor's config generators themselves (``heuristics.inductor_heuristic_configs``).
2. **Coordinate descent** from the fastest measured so far, as max-autotune's ``coordinate_descent_tuning`` does:
   each block size doubled and halved (up to the size hint and Triton's block limit) and the warps doubled and
   halved. A round offers the whole neighbourhood at once and nothing else, and the next round moves to the best
   of it, so the walk max-autotune makes from the heuristic's best is among what the tuner measures.
3. **Beyond it**, once the neighbourhood of the best is spent: two steps per field, the pipeline stages, trading
   one block for another at the same tile size, a looped reduction's whole row in one block (the persistent shape),
   then a coarse grid over tile sizes. Split reductions are separate kernels in Inductor, so a split size is not
   something one kernel's configuration can change.
"Fastest measured" ranks the verified speedup of a correct candidate, and the screen's estimate of one the round did
not verify; acceptance is always the verifier's.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging

from ...dsl.triton_configs import (
    MAX_WARPS,
    LaunchConfig,
    NotTunableError,
    TritonKernelShape,
    kernel_shape,
    with_fixed_config,
)
from ...torch_internals import heuristics
from ...task import KernelTask
from .base import Attempt, Candidate, Proposer, SearchContext

log = logging.getLogger(__name__)

MAX_BLOCK_ELEMENTS = 16384  # the coarse grid stays below this: larger tiles spill registers on every GPU we target
MAX_DESCENT_ELEMENTS = 65536  # descent goes no further (Inductor's own configs may, and are offered as they are)
MIN_BLOCK_ELEMENTS = 128  # smaller tiles leave most of a warp idle
PREFERRED_BLOCK_ELEMENTS = 4096  # round one starts around here: enough bytes in flight without spilling
ELEMENTS_PER_THREAD = 16  # the warps heuristic for round one (H100 softmax: 4096 elements, 8 warps won)
WARP_SIZE = 32


# ------------------------------------------------------------------------------------------------- search space


def _pow2_upto(limit: int, start: int = 1) -> list[int]:
    values, v = [], start
    while v <= max(limit, start):
        values.append(v)
        v *= 2
    return values


def _next_pow2(n: int) -> int:
    return 1 << max(0, (max(n, 1) - 1).bit_length())


def _warps_for(elements: int) -> int:
    return min(16, max(1, _next_pow2(elements // (WARP_SIZE * ELEMENTS_PER_THREAD))))


def _dim_of(param: str) -> str:
    return param.removesuffix("BLOCK").rstrip("_").lower()  # XBLOCK -> x, R0_BLOCK -> r0


def block_limit(shape: TritonKernelShape, param: str) -> int:
    """The largest size ``param`` may take: the size hint of the dimension it tiles, within Triton's block limit
    (how Inductor's coordinate descent bounds it)."""
    dim = _dim_of(param)
    hint = shape.size_hints.get(dim, shape.size_hints.get(f"{dim}_")) or _next_pow2(shape.numels.get(dim, 1))
    return min(heuristics.inductor_block_limits().get(param, MAX_DESCENT_ELEMENTS), _next_pow2(hint))


def _block_choices(shape: TritonKernelShape) -> dict[str, list[int]]:
    """Candidate sizes for each block parameter, bounded by the dimension it tiles."""
    choices = {}
    for param in shape.block_params:
        extent = _next_pow2(shape.numels.get(_dim_of(param), 1))
        low = 16 if shape.kind == "pointwise" and len(shape.block_params) == 1 else 1
        choices[param] = [v for v in _pow2_upto(min(extent, MAX_BLOCK_ELEMENTS), low)]
    return choices


def _persistent_rblock(shape: TritonKernelShape) -> int:
    """A persistent reduction holds the whole reduction per row: its R0_BLOCK is the padded extent."""
    return _next_pow2(shape.numels.get("r0", 1)) if shape.kind == "persistent_reduction" else 1


def inductor_configs(shape: TritonKernelShape) -> list[LaunchConfig]:
    """Inductor's own configurations for this kernel: its heuristic's (default mode) first, then the ones only
    max-autotune adds. A configuration that does not set every block parameter of the kernel is left out."""
    configs: list[LaunchConfig] = []
    for max_autotune in (False, True):
        for raw in heuristics.inductor_heuristic_configs(shape.kind, dict(shape.arguments),
                                                           max_autotune=max_autotune):
            if not all(param in raw for param in shape.block_params):
                continue
            config = LaunchConfig(tuple((param, int(raw[param])) for param in shape.block_params),
                                  int(raw["num_warps"]), int(raw["num_stages"]))
            if config not in configs:
                configs.append(config)
    return configs


def coarse_grid(shape: TritonKernelShape) -> list[LaunchConfig]:
    """The last resort: block-size combinations that fit, with the warps heuristic, in an order that spreads the
    first few candidates over tile sizes (mid-sized first) and, within a size, over tile shapes (the reduction block
    widest first, since whole rows in one program is what beats Inductor's looped reductions most often)."""
    choices = _block_choices(shape)
    hidden = _persistent_rblock(shape)
    by_size: dict[int, list[LaunchConfig]] = {}
    for sizes in itertools.product(*(choices[p] for p in shape.block_params)):
        config = LaunchConfig(tuple(zip(shape.block_params, sizes)), num_warps=1)
        elements = config.elements * hidden
        if MIN_BLOCK_ELEMENTS <= elements <= MAX_BLOCK_ELEMENTS:
            by_size.setdefault(elements, []).append(dataclasses.replace(config, num_warps=_warps_for(elements)))
    for configs in by_size.values():
        configs.sort(key=lambda c: _shape_preference(c, shape))
    sizes = sorted(by_size, key=lambda n: (abs(n.bit_length() - PREFERRED_BLOCK_ELEMENTS.bit_length()), -n))
    return [by_size[n][i] for i in range(max(map(len, by_size.values()), default=0)) for n in sizes
            if i < len(by_size[n])]


def _shape_preference(config: LaunchConfig, shape: TritonKernelShape) -> list[int]:
    sizes = [size for _, size in config.blocks]
    if shape.kind == "pointwise" and len(sizes) == 2:
        return [abs(sizes[0].bit_length() - sizes[1].bit_length())]  # square tiles for transposes
    return [-size for size in reversed(sizes)]  # the innermost (reduction) block widest


def _with_block(config: LaunchConfig, index: int, size: int) -> LaunchConfig:
    param = config.blocks[index][0]
    return dataclasses.replace(config, blocks=config.blocks[:index] + ((param, size),) + config.blocks[index + 1:])


def _fits(config: LaunchConfig, shape: TritonKernelShape) -> bool:
    return (all(1 <= size <= block_limit(shape, param) for param, size in config.blocks)
            and 1 <= config.num_warps <= MAX_WARPS
            and config.elements * _persistent_rblock(shape) <= MAX_DESCENT_ELEMENTS)


def descent_neighbours(config: LaunchConfig, shape: TritonKernelShape, radius: int = 1) -> list[LaunchConfig]:
    """Coordinate descent's neighbourhood, as max-autotune's: one field at a time (each block size, then the
    warps) multiplied and divided by ``2**radius``."""
    step = 2**radius
    around = []
    for i, (_, size) in enumerate(config.blocks):
        around += [_with_block(config, i, size * step), _with_block(config, i, size // step)]
    around += [dataclasses.replace(config, num_warps=config.num_warps * step),
               dataclasses.replace(config, num_warps=config.num_warps // step)]
    return [c for c in around if c != config and _fits(c, shape)]


def wider_neighbours(config: LaunchConfig, shape: TritonKernelShape) -> list[LaunchConfig]:
    """Where the tuner goes beyond coordinate descent: two steps per field, the pipeline stages, one block traded
    for another at the same tile size, and a looped reduction's whole row in one block (its loop then runs once:
    the persistent shape)."""
    around = descent_neighbours(config, shape, radius=2)
    around += [dataclasses.replace(config, num_stages=s) for s in (1, 2, 3, 4) if s != config.num_stages]
    for i, j in itertools.permutations(range(len(config.blocks)), 2):
        (_, a), (_, b) = config.blocks[i], config.blocks[j]
        around.append(_with_block(_with_block(config, i, a * 2), j, b // 2))
    sizes = dict(config.blocks)
    if shape.kind == "reduction" and "R0_BLOCK" in sizes:
        whole = min(block_limit(shape, "R0_BLOCK"), _next_pow2(shape.numels.get("r0", 1)))
        row = _with_block(config, shape.block_params.index("R0_BLOCK"), whole)
        around += [row, dataclasses.replace(row, num_warps=_warps_for(row.elements))]
    return [c for c in around if c != config and _fits(c, shape)]


# ------------------------------------------------------------------------------------------------- the proposer


class TritonConfigTuner(Proposer):
    """A Proposer over launch configurations of Inductor's own Triton kernel (the module docstring gives the
    order of the search)."""

    name = "tuner"

    def propose(self, task: KernelTask, context: SearchContext, limit: int) -> list[Candidate]:
        """The next stage's untried configurations: Inductor's own while any is untried; then the descent
        neighbourhood of the fastest measured; once that is spent, what lies beyond it. A round holds one stage
        only, so each descent step starts from the best of the step before."""
        try:
            shape = kernel_shape(task)
        except NotTunableError:
            return []
        tried = {_config_of(a) for a in context.attempts if a.candidate.proposer == self.name}
        best = _fastest_measured(context, self.name)
        stages = [("inductor", inductor_configs(shape))]
        if best is not None:
            stages += [("descent", descent_neighbours(best, shape)), ("beyond", wider_neighbours(best, shape))]
        stages.append(("grid", coarse_grid(shape)))
        for stage, configs in stages:
            fresh = list(dict.fromkeys(c for c in configs if c not in tried))[:limit]
            if fresh:
                log.debug("aikg: task %s: tuner offers %d %s configuration(s)", task.short_key, len(fresh), stage)
                return [Candidate(with_fixed_config(task, shape, config), self.name,
                                  {"config": config.as_dict(), "heuristic": shape.kind, "stage": stage})
                        for config in fresh]
        return []


def _config_of(attempt: Attempt) -> LaunchConfig:
    return LaunchConfig.from_dict(attempt.candidate.notes["config"])


def measured_speedup(attempt: Attempt) -> float | None:
    """What the search measured of an attempt's speed: the verified speedup of a correct one, or the screen's
    estimate of one its round did not verify (never used for acceptance, only to choose where to search)."""
    if attempt.correct or attempt.report.rule == "screened-out":
        return attempt.report.speedup
    return None


def _fastest_measured(context: SearchContext, proposer: str) -> LaunchConfig | None:
    """Where coordinate descent stands: our fastest measured configuration so far."""
    measured = [(speed, a) for a in context.attempts if a.candidate.proposer == proposer
                and (speed := measured_speedup(a)) is not None]
    return _config_of(max(measured, key=lambda pair: pair[0])[1]) if measured else None
