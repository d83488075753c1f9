"""Typed options for the ``aikg`` backend.

Options come from three places, later ones winning: an optional YAML file (``AIKG_CONFIG_FILE`` or the
``config_file`` option), ``AIKG_*`` environment variables, and the ``options={...}`` dict given to ``torch.compile``.

This module is the one reader of ``AIKG_*`` variables: every other module gets its settings from an ``Options``.
Option ``<name>`` is ``AIKG_<NAME>``; the ``llm`` mapping's keys are ``AIKG_LLM_<KEY>`` each, over the OpenAI SDK's
own ``OPENAI_BASE_URL``/``OPENAI_API_KEY``/``OPENAI_MODEL`` (honoured so an existing setup works unchanged), and
its layers merge key by key. No ``AIKG_*`` variable is protocol between our processes: the background worker gets
its ``Options`` whole on stdin and resolves them with an empty environment, Ray workers get them pickled, and the
verifier's processes read no ``AIKG_*`` variable.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence, get_args

import yaml

Mode = Literal["off", "cache", "tune", "background"]
MODES: tuple[str, ...] = get_args(Mode)
# torch.compile's own modes, for Inductor (torch/_inductor/__init__.py list_mode_options; tests/test_private_apis.py
# checks that Inductor still knows each).
InductorMode = Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"]
INDUCTOR_MODES: tuple[str, ...] = get_args(InductorMode)

ENV_PREFIX = "AIKG_"
LLM_ENV_PREFIX = "AIKG_LLM_"  # AIKG_LLM_<KEY>: one key of the ``llm`` option
# The OpenAI SDK's variables, the lowest layer of the ``llm`` option.
OPENAI_ENV = {"base_url": "OPENAI_BASE_URL", "api_key": "OPENAI_API_KEY", "model": "OPENAI_MODEL"}
# How much faster than Inductor's kernel a candidate must be (0.03: 3%); every default of a margin refers here.
DEFAULT_MARGIN = 0.03


class OptionsError(ValueError):
    """A bad option key or value; the message names the key and what is allowed."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aikg_inductor"


def _opt(default: Any, help: str) -> Any:
    if callable(default):
        return dataclasses.field(default_factory=default, metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class Options:
    """Everything the backend can be told. Each field is also ``AIKG_<FIELD>`` in the environment."""

    mode: Mode = _opt(
        "cache",
        "off: plain Inductor plus task recording; cache: swap in accepted kernels only; tune: tune misses before "
        "compile returns; background: compile now, tune misses in a worker process, later compiles pick them up",
    )
    inductor_mode: InductorMode = _opt(
        "default", "Inductor's own mode, as torch.compile's mode argument, which torch does not take together with "
        "options=: default, reduce-overhead, max-autotune or max-autotune-no-cudagraphs (max-autotune's GEMM "
        "templates are choices aikg does not search; its kernels become the tasks and baselines)"
    )
    cache_dir: Path = _opt(default_cache_dir, "where accepted kernels, the background queue and worker logs live")
    record_dir: Path | None = _opt(None, "if set, every captured kernel task is also written here as JSON")
    kernel_budget_s: float = _opt(60.0, "wall-time budget in seconds for tuning one kernel (tune, background)")
    kernel_budget_candidates: int = _opt(16, "most candidates judged for one kernel (over all runs on it)")
    kernel_budget_tokens: int | None = _opt(None, "most LLM tokens spent on one kernel (none: no limit)")
    run_budget_s: float | None = _opt(None, "wall-time budget in seconds for a whole tuning run (none: no limit)")
    run_budget_tokens: int | None = _opt(None, "most LLM tokens spent by a whole tuning run (none: no limit)")
    target_roofline: float | None = _opt(
        0.9, "stop searching a kernel once an accepted candidate reaches this fraction of the device's measured "
        "copy bandwidth (none: never stop early)"
    )
    verify_workers: int = _opt(1, "verifier worker processes per device; rounds are compiled and checked in "
                                  "parallel, timings always one at a time per device")
    margin: float = _opt(DEFAULT_MARGIN, "a candidate must be this much faster than Inductor's kernel (0.03 = 3%)")
    config_file: Path | None = _opt(None, "a YAML file of options; its keys are these option names")
    print_choices: bool = _opt(
        False, "print each kernel's choice to stderr as a compile makes it: replaced from the cache, tuned now, or "
        "Inductor's kept and why (like TRITON_PRINT_AUTOTUNING); a graph from Inductor's graph cache is named as such"
    )
    llm: dict[str, Any] | None = _opt(
        None, "LLM endpoint settings (keys: base_url, model, api_key, endpoint, ...; agents/config.py's LlmConfig "
        "checks them); each key is also AIKG_LLM_<KEY>, over OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL"
    )
    docs_packs_dir: tuple[Path, ...] = _opt(
        (), "more doc pack directories, searched after the built-in packs (a pack there replaces the built-in one "
        "for its DSL); a list in YAML or options=, os.pathsep-separated in the environment"
    )

    def with_updates(self, **changes: Any) -> Options:
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in dataclasses.fields(Options)}
_NUMBERS: dict[str, type] = {"kernel_budget_s": float, "kernel_budget_candidates": int, "margin": float,
                             "kernel_budget_tokens": int, "run_budget_s": float, "run_budget_tokens": int,
                             "target_roofline": float, "verify_workers": int}
# (lowest allowed, first value too high); numbers not listed must be >= 0. A roofline fraction over 1 is already a
# measuring error, so up to 1.5 is tolerated.
_RANGES: dict[str, tuple[float, float | None]] = {"margin": (0, 1), "target_roofline": (0, 1.5),
                                                  "verify_workers": (1, None)}
# Wall-time budgets, where infinity reads as "no limit"; every other number must be finite.
_INFINITE_OK = {"kernel_budget_s", "run_budget_s"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
_OPTIONAL_NUMBERS = {"kernel_budget_tokens", "run_budget_s", "run_budget_tokens", "target_roofline"}


def _coerce(name: str, value: Any) -> Any:
    """Turn a raw value (from YAML, the environment or a dict) into the field's type, or raise OptionsError."""
    if name in ("mode", "inductor_mode"):
        allowed = MODES if name == "mode" else INDUCTOR_MODES
        if value not in allowed:
            raise OptionsError(f"option {name!r} must be one of {', '.join(allowed)}; got {value!r}")
        return value
    if name == "print_choices":
        if isinstance(value, bool):
            return value
        spelled = str(value).strip().lower()
        if spelled not in _TRUE | _FALSE:
            raise OptionsError(f"option 'print_choices' must be true or false (1/0, yes/no, on/off); got {value!r}")
        return spelled in _TRUE
    if name == "llm":
        if value is not None and not isinstance(value, Mapping):
            raise OptionsError(f"option 'llm' must be a mapping of LLM settings; got {value!r}")
        return None if value is None else dict(value)
    if name == "docs_packs_dir":
        return _paths(value)
    if name in ("cache_dir", "record_dir", "config_file"):
        if value is None or value == "":
            if name == "cache_dir":
                raise OptionsError("option 'cache_dir' must be a path; got nothing")
            return None
        return Path(os.path.expanduser(str(value)))
    if name in _OPTIONAL_NUMBERS and (value is None or str(value).lower() in ("", "none")):
        return None
    low, below = _RANGES.get(name, (0, None))
    try:
        return parse_number(value, _NUMBERS[name], low, below, infinite_ok=name in _INFINITE_OK)
    except ValueError as err:
        raise OptionsError(f"option {name!r} {err}") from None


def coerce_option(name: str, value: Any) -> Any:
    """``value`` (a string from the command line, or any raw value) as option ``name`` takes it, checked as
    ``resolve_options`` checks it; OptionsError otherwise. For command-line flags that set one option."""
    if name not in _FIELDS:
        raise OptionsError(f"unknown option {name!r}")
    return _coerce(name, value)


def parse_number(value: Any, kind: type, low: float = 0, below: float | None = None,
                 infinite_ok: bool = False) -> Any:
    """``value`` as an ``int`` or ``float`` in ``[low, below)``; ValueError saying what is allowed (the caller
    puts the setting's name in front). NaN is never a setting; infinity only where ``infinite_ok``."""
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):  # int(float("inf")) overflows
        raise ValueError(f"must be {'an int' if kind is int else 'a float'}; got {value!r}") from None
    if math.isnan(number) or (math.isinf(number) and not infinite_ok):
        raise ValueError(f"must be a finite number; got {value!r}")
    if number < low or (below is not None and number >= below):
        allowed = f">= {low}" if below is None else f"from {low} up to (not including) {below}"
        raise ValueError(f"must be {allowed}; got {value!r}")
    return number


def _paths(value: Any) -> tuple[Path, ...]:
    """A list of directories: a sequence of paths, or one string of ``os.pathsep``-separated ones (environment)."""
    if value is None:
        return ()
    parts = value.split(os.pathsep) if isinstance(value, str) else value
    if isinstance(parts, (Mapping, bytes)) or not isinstance(parts, (list, tuple)):
        raise OptionsError(f"option 'docs_packs_dir' must be a list of directories; got {value!r}")
    return tuple(Path(os.path.expanduser(str(part))) for part in parts if str(part))


def _check_keys(raw: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise OptionsError(
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {where}; "
            f"valid options: {', '.join(_FIELDS)}"
        )


class YamlFileError(ValueError):
    """A YAML file that cannot be read, does not parse, or does not hold a mapping."""


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The mapping a YAML file holds (empty file: empty mapping); YamlFileError says what is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as err:
        raise YamlFileError(f"{path}: cannot read ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise YamlFileError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise YamlFileError(f"{path}: must hold a mapping of names to values")
    return data


def _from_yaml(path: Path) -> dict[str, Any]:
    try:
        data = read_yaml_mapping(path)
    except YamlFileError as err:
        raise OptionsError(f"options file {err}") from None
    _check_keys(data, str(path))
    return data


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The options the environment sets; ``llm`` is absent when no AIKG_LLM_* variable is set."""
    found = {key[len(ENV_PREFIX):].lower(): value for key, value in environ.items() if key.startswith(ENV_PREFIX)}
    # Other AIKG_* names (the test tooling's AIKG_VLLM_PYTHON, ...) are not options and are left alone.
    options: dict[str, Any] = {key: value for key, value in found.items() if key in _FIELDS and key != "llm"}
    llm = {key[len(LLM_ENV_PREFIX):].lower(): value for key, value in environ.items()
           if key.startswith(LLM_ENV_PREFIX) and len(key) > len(LLM_ENV_PREFIX)}
    if llm:
        options["llm"] = llm
    return options


def _openai_env(environ: Mapping[str, str]) -> dict[str, str]:
    return {key: environ[var] for key, var in OPENAI_ENV.items() if environ.get(var)}


def _merged_llm(layers: Sequence[Mapping[str, Any]], environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The ``llm`` option merged key by key: OPENAI_* variables, then each layer's ``llm`` (file, environment,
    dict); None when nothing sets a key."""
    merged: dict[str, Any] = _openai_env(environ)
    for layer in layers:
        merged.update(_coerce("llm", layer.get("llm")) or {})
    return merged or None


def resolve_options(
    given: Mapping[str, Any] | Options | None = None, environ: Mapping[str, str] | None = None
) -> Options:
    """Merge YAML file, environment and explicit options (in that order of precedence, lowest first)."""
    if isinstance(given, Options):
        return given
    given = dict(given or {})
    _check_keys(given, "options")
    environ = os.environ if environ is None else environ
    env = _from_env(environ)
    config_file = given.get("config_file") or env.get("config_file")
    from_file: dict[str, Any] = _from_yaml(Path(config_file)) if config_file else {}
    merged = {**from_file, **env, **given}
    merged["llm"] = _merged_llm((from_file, env, given), environ)
    # Where each value came from, so that a bad one is blamed on its variable or file (a value given in
    # ``options`` is named by the option alone).
    source = {**{name: str(config_file) for name in from_file}, **{name: _env_name(name) for name in env},
              **{name: "" for name in given}}
    coerced = {}
    for name, value in merged.items():
        try:
            coerced[name] = _coerce(name, value)
        except OptionsError as err:
            raise OptionsError(f"{source[name]}: {err}" if source.get(name) else str(err)) from None
    return Options(**coerced)


def _env_name(option: str) -> str:
    """The environment variable of ``option`` (``llm``: the family of its keys)."""
    return LLM_ENV_PREFIX + "<KEY>" if option == "llm" else ENV_PREFIX + option.upper()


def describe_options() -> str:
    """One line per option: name, default and environment variable; used by ``--help`` and the docs."""
    lines = []
    for name, field in _FIELDS.items():
        default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
        lines.append(f"  {name} ({_env_name(name)}, default {default}): {field.metadata['help']}")
    return "\n".join(lines)
