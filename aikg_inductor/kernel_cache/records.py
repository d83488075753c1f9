"""The records an accepted kernel is stored with, and their one JSON form (never pickle).

``CacheEntry`` (schema 2) holds two typed records, ``Verification`` (what the verifier measured when it accepted
the kernel) and ``Provenance`` (who proposed it), each with its own schema version. Entries written by older aikg
(schema 1: both records were dicts) are converted when they are read; one that does not convert cleanly is refused.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from typing import Any, Mapping

SCHEMA_VERSION = 2
LEGACY_SCHEMA = 1  # verification and provenance as free-form dicts
VERIFICATION_SCHEMA = 1
PROVENANCE_SCHEMA = 1


class RecordError(ValueError):
    """A stored record that does not have the shape this aikg writes; the message says what is wrong."""


@dataclasses.dataclass(frozen=True)
class Verification:
    """What the verifier measured when it accepted the kernel."""

    speedup: float  # the smallest measured baseline / candidate ratio: what ``aikg cache ls`` prints
    margin: float  # the speedup had to exceed 1 + margin (+ the measured noise)
    device: str  # the card or CPU model the timings are valid for
    baseline_s: tuple[float, ...]  # median seconds per measurement
    candidate_s: tuple[float, ...]
    timing_noise: tuple[float, ...]
    seeds: tuple[int, ...]
    trials: tuple[str, ...]  # trial kind per seed
    sizes: dict[str, str]  # kernel parameter -> layout or size value
    size_variants: tuple[dict[str, int], ...]
    max_abs_error: float | None
    max_rel_error: float | None
    tolerances: dict[str, tuple[float, float]]  # dtype -> (atol, rtol)
    elapsed_s: float
    schema: int = VERIFICATION_SCHEMA

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verification:
        _expect_schema(data, VERIFICATION_SCHEMA, "verification")
        try:
            return cls(
                speedup=_positive(data["speedup"], "speedup"),
                margin=float(data["margin"]),
                device=str(data["device"]),
                baseline_s=tuple(float(x) for x in data["baseline_s"]),
                candidate_s=tuple(float(x) for x in data["candidate_s"]),
                timing_noise=tuple(float(x) for x in data["timing_noise"]),
                seeds=tuple(int(x) for x in data["seeds"]),
                trials=tuple(str(x) for x in data["trials"]),
                sizes={str(k): str(v) for k, v in data["sizes"].items()},
                size_variants=tuple({str(k): int(v) for k, v in d.items()} for d in data["size_variants"]),
                max_abs_error=_optional_float(data["max_abs_error"]),
                max_rel_error=_optional_float(data["max_rel_error"]),
                tolerances={str(k): (float(v[0]), float(v[1])) for k, v in data["tolerances"].items()},
                elapsed_s=float(data["elapsed_s"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
            raise RecordError(f"verification record: {type(err).__name__} {err}") from None


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Who proposed the kernel. Search details (steps, lanes, parents) stay in the search history."""

    proposer: str
    model: str | None = None  # LLM proposers: the model that wrote it
    prompt_hash: str | None = None
    tokens: int | None = None  # LLM tokens spent on this candidate
    config: dict[str, Any] | None = None  # the tuner: the launch configuration (LaunchConfig.to_dict)
    from_task: str | None = None  # retrieval: the key of the task whose kernel it reuses
    schema: int = PROVENANCE_SCHEMA

    @classmethod
    def from_candidate(cls, proposer: str, notes: Mapping[str, Any]) -> Provenance:
        """From a candidate's proposer and notes (the one place their notes' names are read for the cache)."""
        return cls.from_json({**{k: notes.get(k) for k in ("model", "prompt_hash", "tokens", "config",
                                                            "from_task")},
                              "proposer": proposer, "schema": PROVENANCE_SCHEMA})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Provenance:
        _expect_schema(data, PROVENANCE_SCHEMA, "provenance")
        try:
            proposer = data["proposer"]
            config = data.get("config")
            if not isinstance(proposer, str) or not proposer:
                raise ValueError("proposer must be a name")
            if config is not None and not isinstance(config, dict):
                raise ValueError("config must be an object")
            tokens = data.get("tokens")
            return cls(proposer=proposer, model=_optional_str(data.get("model")),
                       prompt_hash=_optional_str(data.get("prompt_hash")),
                       tokens=None if tokens is None else int(tokens), config=config,
                       from_task=_optional_str(data.get("from_task")))
        except (KeyError, TypeError, ValueError) as err:
            raise RecordError(f"provenance record: {type(err).__name__} {err}") from None


@dataclasses.dataclass(frozen=True)
class CacheEntry:
    """One accepted kernel and why it was accepted."""

    key: str
    source: str  # normalised, as KernelTask.source: the kernel name is the placeholder
    dsl: str
    device_type: str
    arch: str
    torch_version: str
    triton_version: str | None
    origins: tuple[str, ...]
    verification: Verification
    provenance: Provenance
    created: float = dataclasses.field(default_factory=time.time)
    schema: int = SCHEMA_VERSION
    # Retrieval: feature tokens of the task (features.task_features) and the Designer's sketch; both optional so
    # that the index can still place an entry stored without them (by its origins).
    features: dict[str, float] = dataclasses.field(default_factory=dict)
    sketch: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def payload(self) -> bytes:
        """The bytes that are signed and stored: canonical JSON."""
        return json.dumps(self.to_json(), sort_keys=True).encode()

    @classmethod
    def from_payload(cls, raw: bytes) -> CacheEntry:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise RecordError("not JSON") from None
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: Any) -> CacheEntry:
        if not isinstance(data, dict):
            raise RecordError("an entry must be a JSON object")
        if data.get("schema") == LEGACY_SCHEMA:
            data = _upgrade_legacy(data)
        _expect_schema(data, SCHEMA_VERSION, "entry")
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data) != names:
            raise RecordError(f"entry fields differ from schema {SCHEMA_VERSION}: {sorted(set(data) ^ names)}")
        try:
            return cls(**{**data, "origins": tuple(str(o) for o in data["origins"]),
                          "verification": Verification.from_json(data["verification"]),
                          "provenance": Provenance.from_json(data["provenance"]),
                          "features": {str(k): float(v) for k, v in data["features"].items()},
                          "created": float(data["created"])})
        except (TypeError, ValueError, AttributeError) as err:
            raise RecordError(f"entry: {type(err).__name__} {err}") from None


def _upgrade_legacy(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 entry as schema 2. Its verification dict was the verifier's report; its provenance the
    proposer's name and the candidate's notes."""
    verification, provenance = data.get("verification"), data.get("provenance")
    if not isinstance(verification, dict) or not isinstance(provenance, dict):
        raise RecordError("schema-1 entry without verification and provenance objects")
    fields = [f.name for f in dataclasses.fields(Verification) if f.name != "schema"]
    missing = [name for name in fields if name not in verification]
    if missing:
        raise RecordError(f"schema-1 entry cannot be converted: its verification lacks {', '.join(missing)}")
    return {**data, "schema": SCHEMA_VERSION,
            "verification": {**{name: verification[name] for name in fields}, "schema": VERIFICATION_SCHEMA},
            "provenance": dataclasses.asdict(Provenance.from_candidate(provenance.get("proposer"), provenance))}


def _expect_schema(data: Any, version: int, what: str) -> None:
    if not isinstance(data, Mapping):
        raise RecordError(f"{what} record must be a JSON object")
    if data.get("schema") != version:
        raise RecordError(f"{what} schema {data.get('schema')!r}; this aikg reads {version}")


def _positive(value: Any, name: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return number


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
