"""What Inductor's own Triton heuristics would launch a kernel with: the tuner's starting points and bounds."""

from __future__ import annotations

import logging
from typing import Any

import torch

log = logging.getLogger(__name__)

# Names a Triton kernel's heuristic decorator may use in its arguments (Inductor writes these hint types there).
_DECORATOR_NAMES = ("DeviceProperties", "ReductionHint", "TileHint", "AutotuneHint")


def _decorator_namespace() -> dict[str, Any]:
    from torch._inductor.runtime import hints

    return {name: getattr(hints, name) for name in _DECORATOR_NAMES} | {"set": set}


def _literal_argument(text: str, namespace: dict[str, Any]) -> Any:
    """Evaluate one decorator argument as Inductor wrote it: literals, the hint types' members and constructors,
    ``set()``. Anything else (attribute chains off other objects, other calls) is refused: the source may come from
    a task file, and this must never run code."""
    import ast

    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in namespace:
            raise ValueError(f"name {node.id!r} is not allowed in a heuristic's arguments")
        if isinstance(node, ast.Attribute) and not (isinstance(node.value, ast.Name) and node.attr.isupper()):
            raise ValueError("only a hint type's members may be named in a heuristic's arguments")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and not node.args):
            raise ValueError("only a hint type's constructor with keywords, or set(), may be called")
        if not isinstance(node, (ast.Expression, ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Constant, ast.Name,
                                 ast.Attribute, ast.Call, ast.keyword, ast.Load, ast.UnaryOp, ast.USub)):
            raise ValueError(f"{type(node).__name__} is not allowed in a heuristic's arguments")
    return eval(compile(tree, "<heuristic arguments>", "eval"), {"__builtins__": {}}, namespace)  # noqa: S307


def inductor_heuristic_configs(kind: str, arguments: dict[str, str], *, max_autotune: bool) -> list[dict[str, int]]:
    """The launch configurations Inductor's own Triton heuristic ``kind`` ("pointwise", "reduction",
    "persistent_reduction") gives a kernel whose decorator had these keyword ``arguments`` (their source text):
    each as block sizes plus ``num_warps`` and ``num_stages``. With ``max_autotune``, the wider set that
    max-autotune benchmarks. Empty when this torch's heuristic cannot be asked (a log line says why): the tuner
    then starts from its own grid."""
    import inspect

    from torch._inductor.runtime import triton_heuristics

    heuristic = getattr(triton_heuristics, kind, None)
    if heuristic is None or "return_configs" not in inspect.signature(heuristic).parameters:
        log.info("aikg: torch %s: triton_heuristics.%s cannot return its configurations", torch.__version__, kind)
        return []
    namespace = _decorator_namespace() | {"__file__": "aikg_heuristic.py"}
    try:
        kwargs = {name: _literal_argument(text, namespace) for name, text in arguments.items()}
        kwargs["inductor_meta"] = {**kwargs.get("inductor_meta", {}), "max_autotune": max_autotune,
                                   "max_autotune_pointwise": max_autotune}
        configs = heuristic(**kwargs, return_configs=True)
    except Exception as err:  # noqa: BLE001 - a heuristic that moved must not stop the search
        log.info("aikg: Inductor's %s heuristic gave no configurations here: %s: %s", kind, type(err).__name__, err)
        return []
    return [{**config.kwargs, "num_warps": config.num_warps, "num_stages": config.num_stages} for config in configs]


def inductor_block_limits() -> dict[str, int]:
    """The largest size Inductor lets each block parameter take ("XBLOCK" -> 4096, "R0_BLOCK" -> ...), as its
    coordinate descent bounds them."""
    from torch._inductor.runtime.hints import TRITON_MAX_BLOCK

    return {f"{prefix.rstrip('_')}{'_' if prefix.endswith('_') else ''}BLOCK": size
            for prefix, size in TRITON_MAX_BLOCK.items()}
