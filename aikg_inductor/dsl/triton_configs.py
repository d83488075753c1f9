"""Inductor's Triton kernel format as far as launch configurations go: the heuristic decorator Inductor puts on a
kernel (``pointwise``, ``reduction``, ``persistent_reduction``), the kernel's block parameters, and the same kernel
with that decorator replaced by ``triton_heuristics.fixed_config`` holding one configuration.

The config tuner writes such variants; the verifier recognises them (``launch_config_of``): a variant is Inductor's
own kernel body with nothing changed but a few bounded integers, code as trusted as the baseline itself, so it is
judged without a sandboxed runner, as Inductor's own autotuner runs its configurations in-process.
"""

from __future__ import annotations

import ast
import dataclasses

from ..task import KernelTask
from ..torch_internals import heuristics
from ..torch_internals.kernels import KERNEL_NAME
from .triton_guards import constexpr_params

_PARSE_NAME = "aikg_kernel_placeholder"
TUNABLE_KINDS = ("pointwise", "reduction", "persistent_reduction")


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
    arguments: tuple[tuple[str, str], ...]  # the decorator's keyword arguments, as source text
    size_hints: dict[str, int]  # "x" -> 8192, "r0_" -> 4096: the padded sizes Inductor bounds blocks by

    def argument(self, name: str) -> str:
        return dict(self.arguments)[name]


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
    if not {"filename", "triton_meta", "inductor_meta", "size_hints"} <= keywords.keys():
        raise NotTunableError("the heuristic decorator lacks size_hints, filename, triton_meta or inductor_meta")
    try:
        size_hints = {str(k): int(v) for k, v in ast.literal_eval(keywords["size_hints"]).items()}
    except (ValueError, TypeError, AttributeError, SyntaxError):
        raise NotTunableError(f"size_hints {keywords['size_hints'][:60]!r} is not a literal dict") from None
    block_params = constexpr_params(function)
    numels = {a.param.removesuffix("numel").rstrip("_"): a.value for a in task.args
              if a.role == "size" and a.param.endswith("numel") and a.value is not None}
    return TritonKernelShape(
        kind=decorator.func.attr,
        block_params=block_params,
        numels=numels,
        decorator_lines=(decorator.lineno - 1, decorator.end_lineno),
        arguments=tuple(keywords.items()),
        size_hints=size_hints,
    )


def with_fixed_config(task: KernelTask, shape: TritonKernelShape, config: LaunchConfig) -> str:
    """The task's source with its heuristic decorator replaced by one fixed launch configuration."""
    lines = task.source.splitlines()
    first, end = shape.decorator_lines
    decorator = (
        f"@triton_heuristics.fixed_config(\n    config={config.as_dict()!r},\n    filename={shape.argument('filename')},\n"
        f"    triton_meta={shape.argument('triton_meta')},\n    inductor_meta={shape.argument('inductor_meta')},\n)"
    )
    return "\n".join([*lines[:first], decorator, *lines[end:]])




# Bounds a recognised variant's numbers must keep (Triton's own: warps up to 1024 threads, a handful of stages).
MAX_WARPS = 32  # 1024 threads per block
MAX_STAGES = 8


def launch_config_of(task: KernelTask, source: str) -> LaunchConfig | None:
    """The configuration when ``source`` is exactly ``with_fixed_config`` of ``task`` for one configuration within
    bounds (each block size a power of two up to Inductor's limit for it, warps a power of two up to 32, 1 to 8
    stages); None for anything else, however close."""
    try:
        shape = kernel_shape(task)
    except NotTunableError:
        return None
    base, lines = task.source.splitlines(), source.splitlines()
    first, end = shape.decorator_lines
    if len(lines) < len(base) - (end - first) + 2:
        return None
    config_line = lines[first + 1].strip() if first + 1 < len(lines) else ""
    if not (config_line.startswith("config=") and config_line.endswith(",")):
        return None
    try:
        numbers = ast.literal_eval(config_line.removeprefix("config=").removesuffix(","))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(numbers, dict) or set(numbers) != {*shape.block_params, "num_warps", "num_stages"}:
        return None
    if not all(type(v) is int and v > 0 for v in numbers.values()):
        return None
    config = LaunchConfig(tuple((p, numbers[p]) for p in shape.block_params), numbers["num_warps"],
                          numbers["num_stages"])
    if not _within_bounds(config) or with_fixed_config(task, shape, config) != source:
        return None
    return config


def _within_bounds(config: LaunchConfig) -> bool:
    limits = heuristics.inductor_block_limits()
    blocks_ok = all(_pow2(size) and size <= limits.get(param, 0) for param, size in config.blocks)
    warps_ok = _pow2(config.num_warps) and config.num_warps <= MAX_WARPS
    return blocks_ok and warps_ok and 1 <= config.num_stages <= MAX_STAGES


def _pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0
