"""``LlmConfig``: where the agents' model is and how to talk to it.

Built from the ``llm`` option (``LlmConfig.from_options``), which ``resolve_options`` merges from the config file's
``llm:`` block, the ``AIKG_LLM_*`` variables, the ``OPENAI_*`` ones and the ``options=`` dict; this module reads no
environment. ``Options`` holds the settings as a plain mapping, since ``options`` sits below the agents; the keys
and their checks are here.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Literal, Mapping, get_args

from ..options import Options, OptionsError, default_cache_dir, parse_number

Endpoint = Literal["chat", "completions"]
TranscriptMode = Literal["record", "replay", "off"]


class LlmConfigError(OptionsError):
    """A bad LLM setting; the message names the key, where it came from and what is allowed. An OptionsError: the
    settings are the ``llm`` option, and whoever reports a bad option (``aikg``: one line, exit 2) reports these."""


@dataclasses.dataclass(frozen=True)
class LlmConfig:
    base_url: str | None = None  # None: no endpoint configured, the LLM proposer stays idle
    model: str = ""  # "": ask the endpoint (GET /models) and use the first model it serves
    api_key: str = "not-needed"  # local servers (llama.cpp, vLLM) accept anything
    endpoint: Endpoint = "chat"  # base models (no chat template) only answer sensibly on "completions"
    timeout_s: float = 120.0  # one request
    max_retries: int = 3  # on connection errors, timeouts, HTTP 429 and 5xx
    backoff_s: float = 1.0  # first retry delay; doubles each retry
    backoff_max_s: float = 30.0
    concurrency: int = 4  # requests in flight at once, per client
    max_tokens: int = 8192  # per reply; a reply cut at this is asked again once with twice as many
    temperature: float = 0.2
    task_token_budget: int = 400_000  # prompt + completion tokens spent on one kernel task, shared by its lanes
    task_time_budget_s: float = 600.0  # LLM wall time spent on one kernel task
    transcript_dir: Path | None = None  # None: <cache_dir>/llm-transcripts of the run (see ``from_options``)
    transcript_mode: TranscriptMode = "record"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: LlmConfig | None = None, where: str = "LLM config") -> LlmConfig:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise LlmConfigError(
                f"unknown key(s) {', '.join(map(repr, unknown))} in {where}; valid: {', '.join(fields)}"
            )
        coerced = {name: _coerce(name, value, where) for name, value in data.items()}
        return dataclasses.replace(base or cls(), **coerced)

    @classmethod
    def from_options(cls, options: Options) -> LlmConfig:
        """The settings in ``options.llm``; transcripts go where they say, else to ``<cache_dir>/llm-transcripts``."""
        config = cls.from_dict(options.llm or {}, where="the llm option (AIKG_LLM_* / OPENAI_* included)")
        if config.transcript_dir is None:
            config = dataclasses.replace(config, transcript_dir=Path(options.cache_dir) / "llm-transcripts")
        return config

    @property
    def transcripts(self) -> Path:
        """Where transcripts are kept: ``transcript_dir``, or the default cache folder's ``llm-transcripts``."""
        return self.transcript_dir or default_cache_dir() / "llm-transcripts"


def _coerce(name: str, value: Any, where: str) -> Any:
    if name == "endpoint":
        return _choice(name, value, get_args(Endpoint), where)
    if name == "transcript_mode":
        return _choice(name, value, get_args(TranscriptMode), where)
    if name == "transcript_dir":
        return Path(os.path.expanduser(str(value)))
    if name == "base_url":
        return str(value).rstrip("/") if value else None
    if name in ("model", "api_key"):
        return "" if value is None else str(value)
    kind = int if name in ("max_retries", "concurrency", "max_tokens", "task_token_budget") else float
    try:
        # A time budget may be infinite (no limit); a timeout, delay or temperature may not.
        return parse_number(value, kind, low=1 if name in ("concurrency", "max_tokens") else 0,
                            infinite_ok=name == "task_time_budget_s")
    except ValueError as err:
        raise LlmConfigError(f"{name!r} (AIKG_LLM_{name.upper()}) in {where} {err}") from None


def _choice(name: str, value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise LlmConfigError(f"{name!r} in {where} must be one of {', '.join(allowed)}; got {value!r}")
    return value
