"""``KernelTask``: one fused kernel Inductor produced, described well enough to rebuild, run and replace it alone."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, Literal, Sequence

Role = Literal["in", "out", "in_out", "size"]

# Inductor names kernel parameters by what the kernel does with them; the prefix is the role. Buffer names are
# useless for this because in-place reuse renames them.
_ROLE_BY_PREFIX: tuple[tuple[str, Role], ...] = (
    ("in_out_ptr", "in_out"),
    ("in_ptr", "in"),
    ("out_ptr", "out"),
    ("ks", "size"),
    ("xnumel", "size"),
    ("ynumel", "size"),
    ("znumel", "size"),
    ("r0_numel", "size"),
    ("r1_numel", "size"),
    ("rnumel", "size"),
)


_ITEMSIZE = {"float64": 8, "int64": 8, "complex64": 8, "float32": 4, "int32": 4, "float16": 2, "bfloat16": 2,
             "int16": 2, "int8": 1, "uint8": 1, "bool": 1, "float8_e4m3fn": 1, "float8_e5m2": 1}


def role_of(param: str) -> Role | None:
    """The role of a kernel parameter from its Inductor name, or None for kinds we do not handle (workspaces)."""
    for prefix, role in _ROLE_BY_PREFIX:
        if param.startswith(prefix):
            return role
    return None


@dataclasses.dataclass(frozen=True)
class TensorLayout:
    size: tuple[int, ...]
    stride: tuple[int, ...]
    dtype: str  # torch dtype name without the "torch." prefix, e.g. "float16"
    offset: int = 0
    # Dynamic-shape kernels: size, stride and offset as expressions of the task's symbols ("s77", "16*s27"),
    # recorded with the concrete values above, so the verifier can run the kernel at other sizes. None: static.
    sym_size: tuple[str, ...] | None = None
    sym_stride: tuple[str, ...] | None = None
    sym_offset: str | None = None

    def storage_elements(self) -> int:
        """Elements the underlying storage must hold for this view."""
        if any(s == 0 for s in self.size):
            return self.offset
        return self.offset + 1 + sum((s - 1) * st for s, st in zip(self.size, self.stride))

    def numel(self) -> int:
        """Elements of the view (not of its whole storage)."""
        count = 1
        for s in self.size:
            count *= s
        return count

    def nbytes(self) -> int:
        """Bytes of the view's elements (not of its whole storage)."""
        return self.numel() * _ITEMSIZE.get(self.dtype, 4)

    def short(self) -> str:
        dims = "x".join(map(str, self.size)) or "scalar"
        contiguous = self.stride == _contiguous_strides(self.size)
        return f"{self.dtype}[{dims}]" + ("" if contiguous else f" stride={list(self.stride)}")


def _contiguous_strides(size: tuple[int, ...]) -> tuple[int, ...]:
    strides, running = [], 1
    for s in reversed(size):
        strides.append(running)
        running *= max(s, 1)
    return tuple(reversed(strides))


@dataclasses.dataclass(frozen=True)
class IntRange:
    """The values an integer input may legally hold, read from the ops of its kernel that use it.

    An index (it picks elements of a tensor: gather, embedding, ``w[i]``) holds ``[low, high)``: the indexed
    dimension's size, from minus that size where the op wraps negative indices as Python does. Any other integer
    input (used only in arithmetic and comparisons) may hold any value: ``low`` and ``high`` are None.

    An index that reaches its op through a clamp (``t.clamp(min=0)``, ``maximum(t, 0)``) may also hold every value
    the clamp maps into the range: ``open_below`` (``open_above``) says every value below ``low`` (from ``high`` on)
    is legal too.

    ``specials`` are values the kernel's ops single out (``t != -100``, cross-entropy's ignore_index once nll_loss
    is decomposed; a padding id, a sentinel; a threshold ``t < k`` and its neighbours): legal, inside the range or
    outside it where every index the input reaches is guarded against them, and drawn often, since a kernel may
    handle them apart. ``known`` False: the range itself is not known (an index computed from the input), only the
    specials are.
    """

    low: int | None = None
    high: int | None = None
    # Dynamic-shape kernels: the bounds as expressions of the task's symbols (the indexed size may be one).
    sym_low: str | None = None
    sym_high: str | None = None
    specials: tuple[int, ...] = ()
    open_below: bool = False
    open_above: bool = False
    known: bool = True

    @property
    def is_index(self) -> bool:
        return self.known and self.high is not None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntRange:
        return cls(**{**data, "specials": tuple(int(v) for v in data.get("specials", ()))})


@dataclasses.dataclass(frozen=True)
class KernelArg:
    """One argument of the kernel's call, in call order."""

    param: str  # name inside the kernel: in_ptr0, out_ptr1, in_out_ptr0, ks0, xnumel ...
    buffer: str  # name in the graph the value came from (arg0_1, buf3) or the size expression
    role: Role
    layout: TensorLayout | None = None  # tensors only
    value: int | None = None  # sizes only: the concrete value the baseline was compiled and measured at
    live: bool = True  # outputs only: read after this kernel (False: scratch only this kernel uses)
    ctype: str | None = None  # C++ kernels: the parameter's C type
    expr: str | None = None  # sizes of dynamic-shape kernels only: ``value`` as an expression of the task's symbols
    # Integer inputs only: the values the kernel may legally receive. None: not known (a task recorded before
    # ranges were, or an input that reaches an index through arithmetic aikg does not follow) and no special values
    # known either (``IntRange.known`` False: those specials only).
    int_range: IntRange | None = None

    @property
    def is_tensor(self) -> bool:
        return self.layout is not None


@dataclasses.dataclass(frozen=True)
class KernelTask:
    """A fused kernel as a task: what it computes (source, origins), how it is called (args), where it runs."""

    key: str
    dsl: str  # "cpp-cpu" or "triton-cuda"
    device_type: str  # "cpu" or "cuda"
    arch: str  # CPU vector ISA ("avx512") or CUDA capability ("sm90")
    torch_version: str
    triton_version: str | None
    source: str  # normalised baseline source; the kernel name is the placeholder
    args: tuple[KernelArg, ...]
    origins: tuple[str, ...]  # post-grad ATen ops the kernel fuses, e.g. ("aten.amax.default", ...)
    name: str = ""  # Inductor's descriptive fused name, for people
    dynamic: bool = False  # the baseline takes symbolic sizes
    # Dynamic-shape kernels: each size symbol the argument expressions use, with its value when recorded.
    symbols: tuple[tuple[str, int], ...] = ()

    @property
    def short_key(self) -> str:
        return self.key[:12]

    @property
    def tensor_args(self) -> tuple[KernelArg, ...]:
        return tuple(a for a in self.args if a.is_tensor)

    @property
    def bytes_moved(self) -> int:
        """The least a memory-bound kernel must move: each input read once, each live output written once."""
        reads = sum(a.layout.nbytes() for a in self.tensor_args if a.role in ("in", "in_out"))
        writes = sum(a.layout.nbytes() for a in self.tensor_args if a.role in ("out", "in_out") and a.live)
        return reads + writes

    def to_json(self) -> str:
        return json.dumps(_without_unset_symbolic(dataclasses.asdict(self)), indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KernelTask:
        args = tuple(
            KernelArg(**{**a, "layout": _layout_from(a.get("layout")),
                         "int_range": IntRange.from_dict(a["int_range"]) if a.get("int_range") else None})
            for a in data["args"]
        )
        symbols = tuple((str(name), int(value)) for name, value in data.get("symbols", ()))
        return cls(**{**data, "args": args, "origins": tuple(data["origins"]), "symbols": symbols})

    @classmethod
    def from_json(cls, text: str) -> KernelTask:
        return cls.from_dict(json.loads(text))

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.key}.json"
        path.write_text(self.to_json())
        return path

    @classmethod
    def load(cls, path: Path) -> KernelTask:
        return cls.from_json(Path(path).read_text())


def _without_unset_symbolic(data: dict[str, Any]) -> dict[str, Any]:
    """Static tasks without integer inputs serialise exactly as before symbolic sizes and integer ranges were
    recorded (no null ``sym_*``/``expr``/``int_range`` keys, no empty ``specials``, no flags at their defaults):
    files written before them read back unchanged."""
    if not data.get("symbols"):
        data.pop("symbols", None)
    for arg in data["args"]:
        for key in ("expr", "int_range"):
            if arg.get(key) is None:
                arg.pop(key, None)
        if arg.get("int_range") and arg["int_range"].get("sym_high") is None:
            arg["int_range"].pop("sym_low", None)
            arg["int_range"].pop("sym_high", None)
        if arg.get("int_range"):
            for key, unset in (("specials", ()), ("open_below", False), ("open_above", False), ("known", True)):
                if arg["int_range"].get(key) == unset:
                    arg["int_range"].pop(key)
        layout = arg.get("layout")
        if layout is not None and layout.get("sym_size") is None:
            for key in ("sym_size", "sym_stride", "sym_offset"):
                layout.pop(key, None)
    return data


def _layout_from(data: dict[str, Any] | None) -> TensorLayout | None:
    if data is None:
        return None
    symbolic = data.get("sym_size") is not None
    return TensorLayout(
        size=tuple(data["size"]), stride=tuple(data["stride"]), dtype=data["dtype"], offset=data["offset"],
        sym_size=tuple(data["sym_size"]) if symbolic else None,
        sym_stride=tuple(data["sym_stride"]) if symbolic else None,
        sym_offset=data.get("sym_offset") if symbolic else None,
    )


def task_key(
    normalised_source: str,
    dsl: str,
    device_type: str,
    arch: str,
    torch_version: str,
    triton_version: str | None,
) -> str:
    """The exact cache key: equal keys mean the same kernel for the same compiler stack on the same hardware."""
    material = json.dumps([normalised_source, dsl, device_type, arch, torch_version, triton_version])
    return hashlib.sha256(material.encode()).hexdigest()


def op_names(origins: Sequence[str]) -> str:
    """The ATen ops a kernel fuses, for a table cell: "aten.amax.default" -> "amax"."""
    return ", ".join(o.removeprefix("aten.").split(".")[0] for o in origins)
