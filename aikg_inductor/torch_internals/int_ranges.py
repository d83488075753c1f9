"""The values a fused kernel's integer inputs may legally hold, read from the ATen ops of the kernel that use them.

The verifier draws every integer input across this range (``verify.values``). Without it an index could only be
drawn in a range small enough for any dimension, and a kernel right on those few values and wrong on every real
token id would pass (review round 10: a gather of row ``i & 3``).

An input's value reaches the ops of its kernel (``node.origins``, post-grad FX nodes) either unchanged, through
views, copies and conversions to int32/int64, through a clamp by constants, or through arithmetic. Where it reaches
an index argument unchanged, the indexed dimension's size bounds it; where it reaches one through a clamp
(``t.clamp(min=0)``, ``maximum(t, 0)``: the masked losses of hand-written training code), it may hold every value the
clamp maps into the dimension, so a side the clamp covers is open (review round 13: the clamp left the range unknown,
labels were drawn in 0..3 only, and a kernel without the mask and the clamp was exact on every trial); where it only
meets arithmetic and comparisons that never feed an index, any value is legal. Anything else (an index computed from
it, ``w[i + 1]``; an op not listed here) leaves the range unknown, and the verifier keeps its small default: a wider
guess could send the baseline out of bounds.

Constants an input is compared with are its special values: the kernel handles them apart. For equality (``eq``,
``ne``) the constant itself; for order (``lt``, ``le``, ``gt``, ``ge``) the constant and its neighbours, so both sides
of a threshold are drawn even where the uniform draw never crosses it. Cross-entropy's ignore_index is one: Inductor
decomposes nll_loss (and nll_loss2d) into ``where(t != -100, t, 0)`` before a gather, so the index range alone would
exclude the very value the kernel tests for (review round 12: a kernel without the test, wrong on every padded batch,
was exact on every trial).

Which specials are drawn does not depend on what the range analysis concludes (known, open, unknown), only on one
rule: a value is drawn unless it may send an index out of its dimension, the one thing a legal input cannot do (eager
raises there, and Inductor's kernel asserts: on a GPU a device assert ends the judge's process, so this is decided
before drawing, not by running the baseline). A special inside a known legal range is drawn. Any other is evaluated
(``_safe_to_draw``): the kernel's ops are run on 0-d tensors at one element holding it, as the kernel computes that
element, and every index argument computed from the input must come out in its dimension at every size, or be a
value another input decides. The evaluation follows element-wise ops and conversions (a product with the mask, a
remainder: ``l * (l != -100)`` is 0, ``(l + 512) % 512`` is 412), selects (``where``, and ``masked_fill(mask, v)`` as
``where(mask, v, self)``, as is ``index_put(self, [mask], v)`` by one boolean mask of self's shape; a negated
comparison, ``~(l != -100)``, is just evaluated) and ops that move values (views, a gather's source); where a
select's condition is not known at that element it takes both sides. Values computed from the input combine only
where they come from the same element (a guard of row i's label does not guard column j's:
``where(t[:, None] != k, t[None, :], 0)``). Anything it does not follow (a reduction into an index, an op not listed)
leaves the index's value unknown, and the special is not drawn. (Review round 14: a guard through masked_fill and
bitwise_not was not read as one, nor a product with the mask or a remainder: -100 was never drawn, and a kernel
without the mask was exact on every trial. Review 15: DPO's guard, ``labels[labels == -100] = 0``, is an index_put by
a boolean mask, which neither reading followed: the range was unknown and -100 never drawn. Both readings now see it
as the where it computes, wherever ``_op`` names an op.)

Indices computed by arithmetic (``w[i + 1]``, ``w[i // 2]``, ``w[l & 511]``) stay unknown: their legal range is the
preimage of the dimension under the arithmetic, which this module does not invert, and no draw wider than the small
default is proven safe for the baseline (a GPU baseline's device assert cannot be run to find out). Their specials are
still drawn where ``_safe_to_draw`` evaluates the computed index in bounds.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import operator
from typing import Any, Callable, Iterable, Iterator

import torch
from torch._inductor.virtualized import V
from torch.fx.node import map_arg

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
    "masked_fill": ("self",),
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
    "masked_fill": ("mask",),
    **_CONVERSIONS,
}
# Selects, and the places of (condition, value where true, value where false): ``masked_fill(t, mask, v)`` is
# ``where(mask, v, t)``.
_SELECTS: dict[str, tuple[str, str, str]] = {"where": ("condition", "self", "other"),
                                             "masked_fill": ("mask", "value", "self")}
# Ops whose every output element depends only on their inputs' elements at its place (after broadcasting): called
# on 0-d tensors, they compute one element as the kernel does (``_AtOneElement``).
_ELEMENTWISE = frozenset({
    "eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "rsub", "mul", "div", "neg", "abs", "sign", "remainder",
    "fmod", "floor_divide", "maximum", "minimum", "clamp", "clamp_min", "clamp_max", "bitwise_not", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or", "logical_xor", "bitwise_left_shift",
    "bitwise_right_shift"})
# Constant tensors: Inductor's form of a scalar in a tensor op (``full([], 0)``).
_CONSTANT_TENSORS = frozenset({"full", "scalar_tensor"})

# Ops that index ``self`` along ``dim`` with the tensor ``index``. Eager refuses a negative index for all of them
# (and for embedding), so a kernel need not handle one.
_INDEXING_ALONG_DIM = frozenset({
    "gather", "index_select", "scatter", "scatter_", "scatter_add", "scatter_add_", "scatter_reduce",
    "scatter_reduce_", "index_add", "index_add_", "index_copy", "index_copy_", "index_fill", "index_fill_"})
# Comparisons with a constant: equality singles out one value of an input, order splits its values at a threshold.
_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
_EQUALITY = frozenset({"eq", "ne"})
# Ops indexed by a list ``indices``, the k-th indexing dimension k of ``self``, and whether the op wraps a negative
# index as Python does (aten.index: ``w[-1]`` is the last row; the unsafe forms are only made for in-range indices).
_INDEXING_LIST: dict[str, bool] = {"index": True, "index_put": True, "index_put_": True, "_unsafe_index": False,
                                   "_unsafe_index_put": False, "_unsafe_masked_index": False}


@dataclasses.dataclass(frozen=True)
class _Clamp:
    """``min(max(v, low), high)``, the clamps on the way from an input to one of its kernel's nodes, composed (the
    identity by default). Always ``low <= high``: ``clamp(v, 5, 3)`` is 3 for every v, ``_Clamp(3, 3)``."""

    low: float = -math.inf
    high: float = math.inf

    def __call__(self, value: float) -> float:
        return min(max(value, self.low), self.high)

    def then(self, low: int | None, high: int | None) -> _Clamp:
        """This clamp followed by one to ``[low, high]`` (None: that side not clamped)."""
        after = _Clamp(-math.inf if low is None else low, math.inf if high is None else high)
        return _Clamp(after(self.low), after(self.high))


@dataclasses.dataclass(frozen=True)
class _Bound:
    """An index argument an input's values reach, unchanged but for ``clamp``: the indexed size, and whether the op
    wraps negative indices as Python does."""

    size: Any
    wraps: bool
    clamp: _Clamp


@dataclasses.dataclass
class _Uses:
    """What an input's uses inside its kernel say about its values."""

    bounds: list[_Bound] = dataclasses.field(default_factory=list)
    # Constants its values are compared with, and a threshold's neighbours (``_singled_out``).
    compared: set[int] = dataclasses.field(default_factory=set)
    seen: set[tuple[Any, _Clamp]] = dataclasses.field(default_factory=set)


@dataclasses.dataclass(frozen=True)
class _Interval:
    """The values legal for one index argument or several, as ``IntRange`` records them: ``[low, high)``, with
    every value below (above) it too on an open side. A side given by a symbolic size has its expression."""

    low: int
    high: int
    sym_low: str | None
    sym_high: str | None
    open_below: bool
    open_above: bool

    def holds(self, value: int) -> bool:
        """Whether ``value`` is legal at every size: inside a static side, or past an open one."""
        return ((self.open_below or (self.sym_low is None and value >= self.low))
                and (self.open_above or (self.sym_high is None and value < self.high)))


def int_range_of(buffer: str, origins: Iterable[Any], sizes: Any) -> IntRange | None:
    """The legal values of ``buffer``, an integer input of the kernel whose post-grad FX nodes are ``origins``, or
    None where neither they nor any special value are known. ``sizes(size)`` gives a size (an int or a SymInt) as
    its value and, where it is symbolic, its expression."""
    kernel = set(origins)
    node = _fx_node_of(buffer, kernel)
    if node is None:
        return None
    uses = _Uses()
    if not _collect(node, kernel, uses, _Clamp()):
        log.debug("aikg: integer input %s reaches ops whose legal values aikg does not follow", buffer)
        return _unknown_range(node, uses.compared, kernel, sizes)
    if not uses.bounds:
        return IntRange(specials=tuple(sorted(uses.compared)))
    legal = _intersection([_interval(bound, sizes) for bound in uses.bounds])
    if legal is None:
        log.debug("aikg: integer input %s: no value is legal for every index it reaches", buffer)
        return _unknown_range(node, uses.compared, kernel, sizes)
    sym_low, sym_high = legal.sym_low, legal.sym_high
    if sym_low is not None or sym_high is not None:  # a dynamic bound: both as expressions
        sym_low, sym_high = sym_low or str(legal.low), sym_high or str(legal.high)
    specials = tuple(sorted(value for value in uses.compared
                            if legal.holds(value) or _safe_to_draw(node, value, kernel, sizes)))
    return IntRange(legal.low, legal.high, sym_low, sym_high, specials, legal.open_below, legal.open_above)


def _unknown_range(node: Any, compared: set[int], kernel: set[Any], sizes: Any) -> IntRange | None:
    """A range not known, with the compared values safe to draw: still drawn, since the kernel may handle them
    apart (None where there are none)."""
    specials = tuple(sorted(value for value in compared if _safe_to_draw(node, value, kernel, sizes)))
    return IntRange(specials=specials, known=False) if specials else None


def _interval(bound: _Bound, sizes: Any) -> _Interval | None:
    """The values of the input that ``bound``'s op accepts once clamped, at the recorded sizes (None: none is).

    The clamp's constants are compared with the recorded sizes; a side is opened only where that holds at every
    size: a lower bound of 0 or below any size's negative (``-s <= 0 <= low``), never a symbolic upper bound."""
    value, expr = sizes(bound.size)
    text = None if expr is None else str(expr)
    low, sym_low = (-value, None if text is None else f"-({text})") if bound.wraps else (0, None)
    clamp = bound.clamp
    if clamp.low >= value or clamp.high < low:
        return None  # every value is clamped out of the dimension
    return _Interval(low, value, sym_low, text,
                     open_below=clamp.low >= low and (sym_low is None or clamp.low >= 0),
                     open_above=clamp.high < value and text is None)


def _intersection(intervals: list[_Interval | None]) -> _Interval | None:
    """The values legal for every interval: bounded on a side by the tightest interval closed there, open on a side
    every interval is open on (bounded there by the widest, where the verifier's draw starts its margin)."""
    if any(interval is None for interval in intervals):
        return None
    known = [interval for interval in intervals if interval is not None]
    closed_below = [interval for interval in known if not interval.open_below]
    closed_above = [interval for interval in known if not interval.open_above]
    low = (max(closed_below, key=lambda i: i.low) if closed_below else min(known, key=lambda i: i.low))
    high = (min(closed_above, key=lambda i: i.high) if closed_above else max(known, key=lambda i: i.high))
    return _Interval(low.low, high.high, low.sym_low, high.sym_high, not closed_below, not closed_above)


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


def _collect(node: Any, kernel: set[Any], uses: _Uses, clamp: _Clamp) -> bool:
    """Add to ``uses`` the bounds and compared values of ``node``'s values inside the kernel, ``node`` holding the
    input's values clamped by ``clamp``; False where they meet an op that leaves the legal range unknown. Every use
    is read, so the compared values are all known even then."""
    if (node, clamp) in uses.seen:
        return True
    uses.seen.add((node, clamp))
    users = [user for user in node.users if user in kernel]
    if not users:
        return False  # the kernel reads it but none of its ops does: something aikg does not follow
    return all([_use_is_followed(node, user, kernel, uses, clamp) for user in users])  # noqa: C419 - read all


def _use_is_followed(node: Any, user: Any, kernel: set[Any], uses: _Uses, clamp: _Clamp) -> bool:
    """Whether ``user``'s use of ``node`` is one this module follows, adding what it says to ``uses``."""
    if user.target is operator.getitem:  # one output of a split or unbind: the values themselves
        return _collect(user, kernel, uses, clamp)
    name, arguments = _op(user)
    places = {place for place, value in arguments.items() if _holds(value, node)}
    if not places:
        return False  # an op without a schema, or a use this reading of the schema misses
    # A value compared after a clamp is the input's own value where the clamp leaves it unchanged.
    uses.compared |= {value for value in _singled_out(name, arguments, node) if clamp(value) == value}
    indexed = [_Bound(size, wraps, clamp) for size, wraps in _index_bounds(name, arguments, node)]
    uses.bounds += indexed
    rest = places - ({_index_argument(name)} if indexed else set())
    if not rest:
        return True
    if _passes_values(name, rest, user):
        return _collect(user, kernel, uses, clamp)
    if (clamped := _clamp_of(name, arguments, node)) is not None and _feeds_an_index(user, kernel, set()):
        return _collect(user, kernel, uses, clamp.then(*clamped))
    if rest <= set(_ANY_VALUE.get(name, ())):
        return not _feeds_an_index(user, kernel, set())
    return False


def _passes_values(name: str, places: set[str], user: Any) -> bool:
    """Whether ``user`` (op ``name``) holds the values it takes at ``places`` unchanged."""
    return places <= set(_PASS_THROUGH.get(name, ())) or (places <= set(_CONVERSIONS.get(name, ()))
                                                           and _dtype(user) in _INDEX_DTYPES)


def _compared_constant(name: str, arguments: dict[str, Any], node: Any) -> int | None:
    """The integer constant a comparison compares ``node`` with (``ne(t, -100)``, ``lt(t, 0)``), or None."""
    if name in _COMPARISONS and arguments.get("self") is node:
        return _integer(arguments.get("other"))
    return None


def _singled_out(name: str, arguments: dict[str, Any], node: Any) -> set[int]:
    """The values of ``node`` a comparison with a constant singles out: the constant for equality; for order the
    constant and its neighbours, the values on both sides of the threshold (``t < 0``: -1, 0 and 1)."""
    constant = _compared_constant(name, arguments, node)
    if constant is None:
        return set()
    return {constant} if name in _EQUALITY else {constant - 1, constant, constant + 1}


def _clamp_of(name: str, arguments: dict[str, Any], node: Any) -> tuple[int | None, int | None] | None:
    """The constant bounds (low, high; None: that side not clamped) an op clamps ``node`` to: ``clamp``,
    ``clamp_min``, ``clamp_max`` by integers, ``maximum``/``minimum`` with a constant tensor; None for any other op
    or use."""
    if name in ("clamp", "clamp_min", "clamp_max") and arguments.get("self") is node:
        low, high = arguments.get("min"), arguments.get("max")
        if (low is not None and _integer(low) is None) or (high is not None and _integer(high) is None):
            return None  # a float bound (a float result) or a tensor one
        return low, high
    if name in ("maximum", "minimum"):
        places = {place for place in ("self", "other") if arguments.get(place) is node}
        if len(places) != 1:
            return None
        constant = _full_constant(arguments.get("other" if places == {"self"} else "self"))
        if constant is None:
            return None
        return (constant, None) if name == "maximum" else (None, constant)
    return None


def _full_constant(value: Any) -> int | None:
    """The integer a ``full`` node fills with (Inductor's form of a constant tensor, ``t.new_tensor(0)``), or None."""
    if not hasattr(value, "target"):
        return None
    name, arguments = _op(value)
    return _integer(arguments.get("fill_value")) if name == "full" else None


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _safe_to_draw(node: Any, value: int, kernel: set[Any], sizes: Any) -> bool:
    """Whether ``node`` may hold ``value`` at an element without any index the kernel computes from it going out of
    its dimension: every index argument that depends on ``node`` holds, where ``node`` holds ``value``, a value its op
    accepts at every size, or one that another input or another element decides (``_AtOneElement``)."""
    at = _AtOneElement(node, value, kernel)
    for user in kernel:
        name, arguments = _op(user)
        for index, size, wraps in _indices(name, arguments):
            if not at.depends(index):
                continue
            held = at.held(index)
            if held is None or size is None:
                return False
            if not all(v is None or _accepts(int(v), size, wraps, sizes) for v in held.values):
                return False
    return True


def _accepts(index: int, size: Any, wraps: bool, sizes: Any) -> bool:
    """Whether an op indexing a dimension of ``size`` accepts ``index`` at every size: a symbolic size may be as
    small as 1 at other sizes (0 holds no index), so there only 0, and -1 where the op wraps."""
    value, expr = sizes(size)
    if expr is not None:
        value = 1
    return (-value if wraps else 0) <= index < value


@dataclasses.dataclass(frozen=True)
class _Held:
    """The values a node may hold at the elements that the input's element under test reaches. ``values``: 0-d
    tensors, None for a value another input or another element decides. ``aligned``: the node whose elements match
    the input's one for one on the way here, and ``shape`` the shape they do so at (None: the node does not depend
    on the input); two values combine element by element only where both match it the same way."""

    values: tuple[torch.Tensor | None, ...]
    aligned: Any = None
    shape: tuple[str, ...] | None = None


class _AtOneElement:
    """What the kernel's nodes hold where ``source`` (an integer input) holds ``value`` at one element, evaluated on
    0-d tensors with the graph's own ops: through element-wise ops and conversions (each output element depends on
    the inputs' elements at its place), selects (``where``; ``masked_fill(mask, v)`` and a masked ``index_put`` as
    ``where(mask, v, self)``)
    and ops that rearrange values (a view, a gather's source). Not known (None) through anything else (a reduction,
    an index computed by an op not listed), or where element-wise arguments from the input do not match element for
    element (``t + t.flip(0)``)."""

    def __init__(self, source: Any, value: int, kernel: set[Any]) -> None:
        self.source, self.value, self.kernel = source, value, kernel
        self._held: dict[Any, _Held | None] = {}
        self._depends: dict[Any, bool] = {}

    def depends(self, node: Any) -> bool:
        """Whether ``node``'s values are computed inside the kernel from the source's."""
        if node is self.source:
            return True
        if not hasattr(node, "target") or node not in self.kernel:
            return False
        if node not in self._depends:
            self._depends[node] = any(self.depends(used) for used in node.all_input_nodes)
        return self._depends[node]

    def held(self, node: Any) -> _Held | None:
        if node not in self._held:
            self._held[node] = self._evaluate(node)
        return self._held[node]

    def _evaluate(self, node: Any) -> _Held | None:
        if node is self.source:
            dtype = _dtype(node) or torch.int64
            return _Held((torch.tensor(self.value).to(dtype),), node, _shape_key(node))
        if not self.depends(node):
            return _Held((_constant(node),))
        if node.target is operator.getitem:  # one output of a split or unbind: values rearranged
            return self._rearranged(node, [node.args[0]])
        name, arguments = _op(node)
        if name in _SELECTS:
            return self._select(node, *(arguments.get(place) for place in _SELECTS[name]))
        if name in _CONVERSIONS and len(node.all_input_nodes) == 1:
            held = self.held(node.all_input_nodes[0])
            dtype = _dtype(node)
            if held is None or dtype is None:
                return None
            return dataclasses.replace(held, values=tuple(v if v is None else v.to(dtype) for v in held.values))
        if name in _ELEMENTWISE:
            return self._elementwise(node)
        if name in _PASS_THROUGH:
            return self._rearranged(node, [arguments.get(place) for place in _PASS_THROUGH[name]])
        return None

    def _argument(self, value: Any) -> _Held | None:
        """An argument as held values: a node's, or a Python number's."""
        if hasattr(value, "target"):
            return self.held(value)
        if isinstance(value, (int, float, bool)):
            return _Held((torch.tensor(value),))
        return None

    def _rearranged(self, node: Any, places: list[Any]) -> _Held | None:
        """An op whose output holds values of the arguments at ``places``, moved: the same values, matching the
        input's elements in a new way."""
        values: list[torch.Tensor | None] = []
        for value in places:
            for item in value if isinstance(value, (list, tuple)) else [value]:
                held = self._argument(item)
                if held is None:
                    return None
                values += held.values
        return _Held(_distinct(values), node, _shape_key(node))

    def _select(self, node: Any, condition: Any, if_true: Any, if_false: Any) -> _Held | None:
        """``where(condition, if_true, if_false)``: the side the condition picks at this element, or either side
        where the condition is not known there (decided elsewhere, not evaluated, or not matching element for
        element: then a side's value may come from another element too)."""
        picks = [self._argument(condition), self._argument(if_true), self._argument(if_false)]
        cond, yes, no = picks
        if yes is None or no is None:
            return None
        match = _matching(node, [p for p in picks if p is not None])
        if cond is None or match is None:
            return _Held(_distinct([*yes.values, *no.values, None]), node, _shape_key(node))
        values: list[torch.Tensor | None] = []
        for c in cond.values:
            values += [*yes.values, *no.values] if c is None else (yes if bool(c) else no).values
        return _Held(_distinct(values), *match)

    def _elementwise(self, node: Any) -> _Held | None:
        """An element-wise op, called on every combination of its arguments' values at this element; not known
        where one of them is decided elsewhere or they do not match element for element."""
        used = node.all_input_nodes
        helds = [self.held(u) for u in used]
        if any(h is None or None in h.values for h in helds):
            return None
        match = _matching(node, helds)
        if match is None:
            return None
        values = []
        for combination in itertools.product(*(h.values for h in helds)):
            chosen = dict(zip(used, combination))
            args = map_arg(node.args, chosen.__getitem__)
            kwargs = map_arg(node.kwargs, chosen.__getitem__)
            try:
                values.append(node.target(*args, **kwargs))
            except Exception:  # noqa: BLE001 - an integer division by zero: the kernel's own value is undefined
                return None
        return _Held(_distinct(values), *match)


def _matching(node: Any, helds: list[_Held]) -> tuple[Any, tuple[Any, ...] | None] | None:
    """(aligned, shape) for ``node``'s output where its arguments computed from the input all match it the same way
    (the same node, the same shape: broadcasting then pairs their elements alike); the output matches in a new
    way where it broadcasts them. None where they do not match."""
    computed = {(h.aligned, h.shape) for h in helds if h.aligned is not None}
    if len(computed) != 1:
        return None
    aligned, shape = computed.pop()
    if shape is None:
        return None
    return (aligned, shape) if _shape_key(node) == shape else (node, _shape_key(node))


def _constant(node: Any) -> torch.Tensor | None:
    """A constant tensor's value (``full``, ``scalar_tensor``: Inductor's form of a scalar), or None: a value the
    kernel reads from another input."""
    if not hasattr(node, "target"):
        return None
    name, arguments = _op(node)
    fill = arguments.get("fill_value", arguments.get("s")) if name in _CONSTANT_TENSORS else None
    if not isinstance(fill, (int, float, bool)):
        return None
    return torch.tensor(fill).to(_dtype(node) or torch.tensor(fill).dtype)


def _distinct(values: Iterable[torch.Tensor | None]) -> tuple[torch.Tensor | None, ...]:
    seen: dict[Any, torch.Tensor | None] = {}
    for v in values:
        seen.setdefault(None if v is None else (v.dtype, v.item()), v)
    return tuple(seen.values())


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
        if name in _SELECTS and places == {_SELECTS[name][0]}:
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
    for index, size, wraps in _indices(name, arguments):
        if index is node and size is not None:
            yield size, wraps


def _indices(name: str, arguments: dict[str, Any]) -> Iterator[tuple[Any, Any, bool]]:
    """(index argument, indexed size, wraps negatives) for each index argument of this op; the size None where
    the indexed tensor's shape is not recorded."""
    if name in _INDEXING_LIST:
        shape = _shape(arguments.get("self"))
        for dim, index in enumerate(arguments.get("indices") or ()):
            if index is not None:
                yield index, shape[dim] if shape is not None and dim < len(shape) else None, _INDEXING_LIST[name]
    elif name in _INDEXING_ALONG_DIM:
        shape = _shape(arguments.get("self"))
        yield arguments.get("index"), shape[int(arguments["dim"]) % len(shape)] if shape else None, False
    elif name == "embedding":
        shape = _shape(arguments.get("weight"))
        yield arguments.get("indices"), shape[0] if shape else None, False
    elif name == "embedding_dense_backward":
        yield arguments.get("indices"), arguments["num_weights"], False


def _op(user: Any) -> tuple[str, dict[str, Any]]:
    """An FX node's op name ("gather" for aten.gather.default) and its arguments by schema name; an index_put by a
    boolean mask as the ``where`` it is (``_masked_put_as_where``)."""
    schema = getattr(user.target, "_schema", None)
    if schema is None:
        return "", {}
    arguments = {arg.name: value for arg, value in zip(schema.arguments, user.args)}
    arguments.update(user.kwargs)
    name = schema.name.split("::")[-1]
    return _masked_put_as_where(name, arguments) or (name, arguments)


def _masked_put_as_where(name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``index_put(self, [mask], v)`` (``t[t == -100] = 0``, DPO's guard of its labels) as ``where(mask, v, self)``
    where that is what it computes: one boolean mask of ``self``'s shape, one value put at every place the mask
    picks, not accumulated. None for any other op or form (a mask over leading dimensions, values taken in turn)."""
    if name not in ("index_put", "index_put_") or arguments.get("accumulate"):
        return None
    indices, values, target = arguments.get("indices") or (), arguments.get("values"), arguments.get("self")
    if len(indices) != 1 or not hasattr(indices[0], "target") or not hasattr(values, "target"):
        return None
    mask, value_shape = indices[0], _shape_key(values)
    if (_dtype(mask) != torch.bool or _shape_key(mask) is None or _shape_key(mask) != _shape_key(target)
            or value_shape is None or any(size != "1" for size in value_shape)):
        return None
    return "where", {"condition": mask, "self": values, "other": target}


def _holds(value: Any, node: Any) -> bool:
    return value is node or (isinstance(value, (list, tuple)) and any(v is node for v in value))


def _shape(node: Any) -> tuple[Any, ...] | None:
    value = getattr(node, "meta", {}).get("val")
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def _shape_key(node: Any) -> tuple[str, ...] | None:
    """A node's shape as text: sizes compared without comparing SymInts (which would add guards to the graph)."""
    shape = _shape(node)
    return None if shape is None else tuple(str(size) for size in shape)


def _dtype(node: Any) -> torch.dtype | None:
    value = node.meta.get("val")
    return value.dtype if isinstance(value, torch.Tensor) else None
