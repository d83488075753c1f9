"""The config tuner: no LLM, Inductor's own Triton kernel with other launch configurations.

Inductor decorates each Triton kernel with a heuristic (``pointwise``, ``reduction``, ``persistent_reduction``) that
picks a few launch configurations at run time. The tuner keeps the kernel body and replaces that decorator by
``triton_heuristics.fixed_config`` with one configuration (block sizes per dimension, warps, stages), so a winning
candidate has no run-time autotuning left. A looped reduction whose ``R0_BLOCK`` covers the whole reduction runs
its loops once: the persistent shape, reached by configuration alone.

Round one proposes a coarse grid over block sizes (warps set to give each thread a few elements); later rounds
propose the neighbours of the fastest verified candidate (warps and stages, blocks halved and doubled).
"""

from __future__ import annotations

import ast
import dataclasses
import itertools

from ...task import KernelTask
from .base import Attempt, Candidate, SearchContext, speed

KERNEL_NAME = "Placeholder.KERNEL_NAME"
_PARSE_NAME = "aikg_kernel_placeholder"
TUNABLE_KINDS = ("pointwise", "reduction", "persistent_reduction")

MAX_BLOCK_ELEMENTS = 16384  # larger tiles spill registers on every GPU we target
MIN_BLOCK_ELEMENTS = 128  # smaller tiles leave most of a warp idle
PREFERRED_BLOCK_ELEMENTS = 4096  # round one starts around here: enough bytes in flight without spilling
ELEMENTS_PER_THREAD = 16  # the warps heuristic for round one (H100 softmax: 4096 elements, 8 warps won)
WARP_SIZE = 32


class NotTunableError(ValueError):
    """The kernel is of a kind the tuner does not handle (templates, combo kernels, scans...)."""


@dataclasses.dataclass(frozen=True)
class LaunchConfig:
    blocks: tuple[tuple[str, int], ...]  # ("XBLOCK", 1024), ("R0_BLOCK", 2048) in the kernel's parameter order
    num_warps: int
    num_stages: int = 1

    def as_dict(self) -> dict[str, int]:
        return {**dict(self.blocks), "num_warps": self.num_warps, "num_stages": self.num_stages}

    @classmethod
    def from_dict(cls, config: dict[str, int]) -> LaunchConfig:
        blocks = tuple((k, v) for k, v in config.items() if k not in ("num_warps", "num_stages"))
        return cls(blocks, config["num_warps"], config["num_stages"])

    @property
    def elements(self) -> int:
        total = 1
        for _, size in self.blocks:
            total *= size
        return total


@dataclasses.dataclass(frozen=True)
class TritonKernelShape:
    """What the tuner needs to know of an Inductor Triton kernel."""

    kind: str  # one of TUNABLE_KINDS
    block_params: tuple[str, ...]  # the tl.constexpr parameters of the kernel, in order
    numels: dict[str, int]  # "x", "y", "r0" -> the iteration-space size the kernel is compiled for
    decorator_lines: tuple[int, int]  # the heuristic decorator's lines, as a 0-based half-open range
    filename: str
    triton_meta: str
    inductor_meta: str


def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source.replace(KERNEL_NAME, _PARSE_NAME))
    except SyntaxError as err:
        raise NotTunableError(f"kernel source does not parse: {err}") from None


def kernel_shape(task: KernelTask) -> TritonKernelShape:
    """Read the heuristic decorator and the block parameters off the task's Triton source."""
    if task.dsl != "triton-cuda":
        raise NotTunableError(f"the tuner handles Triton kernels, not {task.dsl}")
    module = _parse(task.source)
    function = next((n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == _PARSE_NAME), None)
    if function is None or not function.decorator_list:
        raise NotTunableError("no decorated kernel function in the source")
    decorator = function.decorator_list[0]
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in TUNABLE_KINDS):
        raise NotTunableError(f"heuristic {ast.unparse(decorator)[:60]!r} is not one the tuner handles")
    source = task.source.replace(KERNEL_NAME, _PARSE_NAME)
    keywords = {k.arg: ast.get_source_segment(source, k.value) for k in decorator.keywords}
    if not {"filename", "triton_meta", "inductor_meta"} <= keywords.keys():
        raise NotTunableError("the heuristic decorator lacks filename, triton_meta or inductor_meta")
    block_params = tuple(
        a.arg for a in function.args.args
        if a.annotation is not None and ast.unparse(a.annotation) == "tl.constexpr"
    )
    numels = {a.param.removesuffix("numel").rstrip("_"): a.value for a in task.args
              if a.role == "size" and a.param.endswith("numel") and a.value is not None}
    return TritonKernelShape(
        kind=decorator.func.attr,
        block_params=block_params,
        numels=numels,
        decorator_lines=(decorator.lineno - 1, decorator.end_lineno),
        filename=keywords["filename"],
        triton_meta=keywords["triton_meta"],
        inductor_meta=keywords["inductor_meta"],
    )


def with_fixed_config(task: KernelTask, shape: TritonKernelShape, config: LaunchConfig) -> str:
    """The task's source with its heuristic decorator replaced by one fixed launch configuration."""
    lines = task.source.splitlines()
    first, end = shape.decorator_lines
    decorator = (
        f"@triton_heuristics.fixed_config(\n    config={config.as_dict()!r},\n    filename={shape.filename},\n"
        f"    triton_meta={shape.triton_meta},\n    inductor_meta={shape.inductor_meta},\n)"
    )
    return "\n".join([*lines[:first], decorator, *lines[end:]])


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


def _block_choices(shape: TritonKernelShape) -> dict[str, list[int]]:
    """Candidate sizes for each block parameter, bounded by the dimension it tiles."""
    choices = {}
    for param in shape.block_params:
        dim = param.removesuffix("BLOCK").rstrip("_").lower()  # XBLOCK -> x, R0_BLOCK -> r0
        extent = _next_pow2(shape.numels.get(dim, 1))
        low = 16 if shape.kind == "pointwise" and len(shape.block_params) == 1 else 1
        choices[param] = [v for v in _pow2_upto(min(extent, MAX_BLOCK_ELEMENTS), low)]
    return choices


def _persistent_rblock(shape: TritonKernelShape) -> int:
    """A persistent reduction holds the whole reduction per row: its R0_BLOCK is the padded extent."""
    return _next_pow2(shape.numels.get("r0", 1)) if shape.kind == "persistent_reduction" else 1


def coarse_grid(shape: TritonKernelShape) -> list[LaunchConfig]:
    """Round one: block-size combinations that fit, with the warps heuristic, in an order that spreads the first
    few candidates over tile sizes (mid-sized first) and, within a size, over tile shapes (the reduction block
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


def neighbours(config: LaunchConfig, shape: TritonKernelShape) -> list[LaunchConfig]:
    """Configurations one step from ``config``: warps and stages, and each block halved or doubled."""
    choices = _block_choices(shape)
    hidden = _persistent_rblock(shape)
    around = [dataclasses.replace(config, num_warps=w) for w in (config.num_warps // 2, config.num_warps * 2)
              if 1 <= w <= 16]
    around += [dataclasses.replace(config, num_stages=s) for s in (1, 2, 3) if s != config.num_stages]
    for i, (param, size) in enumerate(config.blocks):
        for new in (size // 2, size * 2):
            if new in choices[param]:
                blocks = config.blocks[:i] + ((param, new),) + config.blocks[i + 1:]
                around.append(dataclasses.replace(config, blocks=blocks))
    return [c for c in around if MIN_BLOCK_ELEMENTS <= c.elements * hidden <= MAX_BLOCK_ELEMENTS]


# ------------------------------------------------------------------------------------------------- the proposer


class TritonConfigTuner:
    """A Proposer over launch configurations of Inductor's own Triton kernel."""

    name = "tuner"

    def propose(self, task: KernelTask, context: SearchContext, limit: int) -> list[Candidate]:
        try:
            shape = kernel_shape(task)
        except NotTunableError:
            return []
        tried = {_config_of(a) for a in context.attempts if a.candidate.proposer == self.name}
        base = _base_config(context, self.name)
        pool = coarse_grid(shape) if base is None else neighbours(base, shape) + coarse_grid(shape)
        fresh = []
        for config in pool:
            if config in tried:
                continue
            tried.add(config)
            fresh.append(Candidate(with_fixed_config(task, shape, config), self.name,
                                   {"config": config.as_dict(), "heuristic": shape.kind}))
            if len(fresh) == limit:
                break
        return fresh


def _config_of(attempt: Attempt) -> LaunchConfig:
    return LaunchConfig.from_dict(attempt.candidate.notes["config"])


def _base_config(context: SearchContext, proposer: str) -> LaunchConfig | None:
    """The configuration to search around: the search's chosen parent when it is one of ours, else our fastest
    correct one (accepted, or correct but not faster)."""
    if context.parent is not None and context.parent.candidate.proposer == proposer:
        return _config_of(context.parent)
    correct = [a for a in context.attempts if a.candidate.proposer == proposer and a.correct]
    return _config_of(max(correct, key=speed)) if correct else None
