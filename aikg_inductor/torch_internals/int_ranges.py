"""The values a fused kernel's integer inputs may legally hold, read from the ATen ops of the kernel that use them.

The verifier draws every integer input across this range (``verify.values``). Without it an index could only be
drawn in a range small enough for any dimension, and a kernel right on those few values and wrong on every real
token id would pass (review round 10: a gather of row ``i & 3``).

An input's value reaches the ops of its kernel (``node.origins``, post-grad FX nodes) either unchanged, through
views, copies and conversions to int32/int64, or through arithmetic. Where it reaches an index argument unchanged, the
indexed dimension's size bounds it; where it only meets arithmetic and comparisons that never feed an index, any
value is legal. Anything else (an index computed from it, ``w[i + 1]``; an op not listed here) leaves the range
unknown, and the verifier keeps its small default: a wider guess could send the baseline out of bounds.

Values an input is compared with for equality (``eq``/``ne`` against a constant) are its special values: the
kernel handles them apart. Cross-entropy's ignore_index is one: Inductor decomposes nll_loss (and nll_loss2d) into
``where(t != -100, t, 0)`` before a gather, so the index range alone would exclude the very value the kernel tests
for (review round 12: a kernel without the test, wrong on every padded batch, was exact on every trial). A special
outside the index range is kept only where every index the input reaches is guarded against it by such a ``where``.
"""

from __future__ import annotations

import dataclasses
import logging
import operator
from typing import Any, Iterable, Iterator

import torch
from torch._inductor.virtualized import V

from ..task import IntRange

log = logging.getLogger(__name__)

# Ops whose output holds the values of the named inputs, unchanged (rearranged, repeated or selected).
_PASS_THROUGH: dict[str, tuple[str, ...]] = {
    **{name: ("self",) for name in (
        "view", "_unsafe_view", "reshape", "unsqueeze", "squeeze", "expand", "permute", "t", "transpose", "clone",
        "alias", "slice", "select", "contiguous", "flatten", "repeat", "as_strided", "narrow", "unfold", "split",
        "split_with_sizes", "unbind", "lift_fresh_copy")},
    "cat": ("tensors",),
    "where": ("self", "other"),
    # The source tensor of an indexing op: its elements are picked, not changed.
    **{name: ("self",) for name in ("index", "_unsafe_index", "gather", "index_select")},
    "embedding": ("weight",),
}
# Dtype conversions keep an index's values where the new dtype holds every index (int32, int64: ``index_select``
# converts to int32); to a float or a narrower integer they are arithmetic (fp16 rounds 49999 to 50000).
_CONVERSIONS = {"convert_element_type": ("a",), "_to_copy": ("self",)}
_INDEX_DTYPES = (torch.int32, torch.int64)

# Ops whose result is defined for every integer value of the named inputs (no division, shift or power): an input
# that meets only these, and whose results feed no index, may hold any value.
_ANY_VALUE: dict[str, tuple[str, ...]] = {
    **{name: ("self", "other") for name in (
        "add", "sub", "mul", "eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum", "bitwise_and", "bitwise_or",
        "bitwise_xor", "logical_and", "logical_or", "logical_xor")},
    **{name: ("self",) for name in (
        "neg", "abs", "sign", "bitwise_not", "logical_not", "sum", "amax", "amin", "clamp", "clamp_min",
        "clamp_max")},
    "where": ("condition",),
    **_CONVERSIONS,
}

# Ops that index ``self`` along ``dim`` with the tensor ``index``. Eager refuses a negative index for all of them
# (and for embedding), so a kernel need not handle one.
_INDEXING_ALONG_DIM = frozenset({
    "gather", "index_select", "scatter", "scatter_", "scatter_add", "scatter_add_", "scatter_reduce",
    "scatter_reduce_", "index_add", "index_add_", "index_copy", "index_copy_", "index_fill", "index_fill_"})
# Comparisons that single out one value of an input.
_EQUALITY = frozenset({"eq", "ne"})
# Ops indexed by a list ``indices``, the k-th indexing dimension k of ``self``, and whether the op wraps a negative
# index as Python does (aten.index: ``w[-1]`` is the last row; the unsafe forms are only made for in-range indices).
_INDEXING_LIST: dict[str, bool] = {"index": True, "index_put": True, "index_put_": True, "_unsafe_index": False,
                                   "_unsafe_index_put": False, "_unsafe_masked_index": False}


@dataclasses.dataclass
class _Uses:
    """What an input's uses inside its kernel say about its values."""

    # (indexed size, wraps negatives) of every index argument its values reach unchanged.
    bounds: list[tuple[Any, bool]] = dataclasses.field(default_factory=list)
    # Constants its values are compared with for equality.
    compared: set[int] = dataclasses.field(default_factory=set)
    seen: set[Any] = dataclasses.field(default_factory=set)


def int_range_of(buffer: str, origins: Iterable[Any], sizes: Any) -> IntRange | None:
    """The legal values of ``buffer``, an integer input of the kernel whose post-grad FX nodes are ``origins``, or
    None where they are not known. ``sizes(size)`` gives a size (an int or a SymInt) as its value and, where it is
    symbolic, its expression."""
    kernel = set(origins)
    node = _fx_node_of(buffer, kernel)
    if node is None:
        return None
    uses = _Uses()
    if not _collect(node, kernel, uses):
        log.debug("aikg: integer input %s reaches ops whose legal values aikg does not follow", buffer)
        return None
    if not uses.bounds:
        return IntRange(specials=tuple(sorted(uses.compared)))
    # Where several ops index with the input, it must be legal for all of them: the ranges' intersection.
    low, sym_low, high, sym_high = None, None, None, None
    for size, wraps in uses.bounds:
        value, expr = sizes(size)
        text = None if expr is None else str(expr)
        if high is None or value < high:
            high, sym_high = value, text
        if low is None or (-value if wraps else 0) > low:
            low, sym_low = (-value, None if text is None else f"-({text})") if wraps else (0, None)
    if sym_low is not None or sym_high is not None:  # a dynamic bound: both as expressions
        sym_low, sym_high = sym_low or str(low), sym_high or str(high)
    # A compared value inside a static range is legal; any other only where no index ever receives it (at another
    # size of a dynamic kernel, a value inside the recorded range may lie outside).
    specials = tuple(sorted(value for value in uses.compared
                            if (sym_high is None and low <= value < high)
                            or not _reaches_an_index_as(node, value, kernel, set())))
    return IntRange(low, high, sym_low, sym_high, specials)


def _fx_node_of(buffer: str, kernel: set[Any]) -> Any:
    """The FX node whose value the kernel reads as ``buffer``: a graph input read by one of the kernel's ops, or
    the node a buffer computed by an earlier kernel holds."""
    for node in kernel:
        for used in node.all_input_nodes:
            if used.name == buffer and used not in kernel:
                return used
    try:
        return getattr(V.graph.get_buffer(buffer), "origin_node", None)
    except Exception:  # noqa: BLE001 - a buffer Inductor cannot name: unknown
        return None


def _collect(node: Any, kernel: set[Any], uses: _Uses) -> bool:
    """Add to ``uses`` the bounds and compared values of ``node``'s values inside the kernel; False where they meet
    an op that leaves the legal range unknown."""
    if node in uses.seen:
        return True
    uses.seen.add(node)
    users = [user for user in node.users if user in kernel]
    if not users:
        return False  # the kernel reads it but none of its ops does: something aikg does not follow
    return all(_use_is_followed(node, user, kernel, uses) for user in users)


def _use_is_followed(node: Any, user: Any, kernel: set[Any], uses: _Uses) -> bool:
    """Whether ``user``'s use of ``node`` is one this module follows, adding what it says to ``uses``."""
    if user.target is operator.getitem:  # one output of a split or unbind: the values themselves
        return _collect(user, kernel, uses)
    name, arguments = _op(user)
    places = {place for place, value in arguments.items() if _holds(value, node)}
    if not places:
        return False  # an op without a schema, or a use this reading of the schema misses
    if (constant := _compared_constant(name, arguments, node)) is not None:
        uses.compared.add(constant)
    indexed = list(_index_bounds(name, arguments, node))
    uses.bounds += indexed
    rest = places - ({_index_argument(name)} if indexed else set())
    if not rest:
        return True
    if _passes_values(name, rest, user):
        return _collect(user, kernel, uses)
    if rest <= set(_ANY_VALUE.get(name, ())):
        return not _feeds_an_index(user, kernel, set())
    return False


def _passes_values(name: str, places: set[str], user: Any) -> bool:
    """Whether ``user`` (op ``name``) holds the values it takes at ``places`` unchanged."""
    return places <= set(_PASS_THROUGH.get(name, ())) or (places <= set(_CONVERSIONS.get(name, ()))
                                                           and _dtype(user) in _INDEX_DTYPES)


def _compared_constant(name: str, arguments: dict[str, Any], node: Any) -> int | None:
    """The integer constant an equality op compares ``node`` with (``ne(t, -100)``), or None."""
    other = arguments.get("other")
    if name in _EQUALITY and arguments.get("self") is node and isinstance(other, int) and not isinstance(other, bool):
        return other
    return None


def _reaches_an_index_as(node: Any, value: int, kernel: set[Any], seen: set[Any]) -> bool:
    """Whether ``node`` holding ``value`` passes it unchanged to an index argument inside the kernel: through the
    ops ``_collect`` follows, except a ``where`` that picks another value whenever ``node`` equals ``value``
    (``where(t != k, t, 0)``). Arithmetic never reaches an index here (``_collect`` refused it otherwise)."""
    if node in seen:
        return False
    seen.add(node)
    for user in node.users:
        if user not in kernel:
            continue
        if user.target is operator.getitem:
            if _reaches_an_index_as(user, value, kernel, seen):
                return True
            continue
        name, arguments = _op(user)
        places = {place for place, held in arguments.items() if _holds(held, node)}
        if _index_argument(name) in places:
            return True
        if name == "where":
            places -= _guarded_places(arguments, node, value)
        if places and _passes_values(name, places, user) and _reaches_an_index_as(user, value, kernel, seen):
            return True
    return False


def _guarded_places(where: dict[str, Any], node: Any, value: int) -> set[str]:
    """The places of a ``where`` whose pick never holds ``node`` at ``value``: ``self`` under ``node != value``,
    ``other`` under ``node == value``."""
    condition = where.get("condition")
    name, arguments = _op(condition) if hasattr(condition, "target") else ("", {})
    if _compared_constant(name, arguments, node) != value:
        return set()
    return {"self" if name == "ne" else "other"}


def _feeds_an_index(node: Any, kernel: set[Any], seen: set[Any]) -> bool:
    """Whether ``node``'s result reaches an index argument of an op inside the kernel, through any ops."""
    if node in seen:
        return False
    seen.add(node)
    for user in node.users:
        if user not in kernel:
            continue
        name, arguments = _op(user)
        places = {place for place, value in arguments.items() if _holds(value, node)}
        if _index_argument(name) in places:
            return True
        if name == "where" and places == {"condition"}:
            continue  # a condition picks between the other inputs' values, whose own uses are followed
        if _feeds_an_index(user, kernel, seen):
            return True
    return False


def _index_argument(name: str) -> str | None:
    if name in _INDEXING_LIST:
        return "indices"
    if name in _INDEXING_ALONG_DIM:
        return "index"
    return {"embedding": "indices", "embedding_dense_backward": "indices"}.get(name)


def _index_bounds(name: str, arguments: dict[str, Any], node: Any) -> Iterator[tuple[Any, bool]]:
    """(indexed size, wraps negatives) for each place ``node`` is an index argument of this op."""
    if name in _INDEXING_LIST:
        shape = _shape(arguments.get("self"))
        for dim, index in enumerate(arguments.get("indices") or ()):
            if index is node and shape is not None and dim < len(shape):
                yield shape[dim], _INDEXING_LIST[name]
    elif name in _INDEXING_ALONG_DIM and arguments.get("index") is node:
        shape = _shape(arguments.get("self"))
        if shape is not None and shape:
            yield shape[int(arguments["dim"]) % len(shape)], False
    elif name == "embedding" and arguments.get("indices") is node:
        shape = _shape(arguments.get("weight"))
        if shape:
            yield shape[0], False
    elif name == "embedding_dense_backward" and arguments.get("indices") is node:
        yield arguments["num_weights"], False


def _op(user: Any) -> tuple[str, dict[str, Any]]:
    """An FX node's op name ("gather" for aten.gather.default) and its arguments by schema name."""
    schema = getattr(user.target, "_schema", None)
    if schema is None:
        return "", {}
    arguments = {arg.name: value for arg, value in zip(schema.arguments, user.args)}
    arguments.update(user.kwargs)
    return schema.name.split("::")[-1], arguments


def _holds(value: Any, node: Any) -> bool:
    return value is node or (isinstance(value, (list, tuple)) and any(v is node for v in value))


def _shape(node: Any) -> tuple[Any, ...] | None:
    value = getattr(node, "meta", {}).get("val")
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def _dtype(node: Any) -> torch.dtype | None:
    value = node.meta.get("val")
    return value.dtype if isinstance(value, torch.Tensor) else None
