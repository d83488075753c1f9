"""``LlmConfig``: where the agents' model is and how to talk to it.

Read from ``AIKG_LLM_*`` environment variables, falling back to the usual ``OPENAI_*`` ones, then overridden by an
explicit dict (e.g. the ``llm:`` block of a config file). It is not part of ``Options``: the backend does not need
it, and an LLM endpoint is configured once per machine, not per ``torch.compile`` call.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Literal, Mapping, get_args

from ..options import default_cache_dir

Endpoint = Literal["chat", "completions"]
TranscriptMode = Literal["record", "replay", "off"]

ENV_PREFIX = "AIKG_LLM_"
# The OpenAI SDK's own variables, honoured so an existing setup works unchanged.
_OPENAI_ENV = {"base_url": "OPENAI_BASE_URL", "api_key": "OPENAI_API_KEY", "model": "OPENAI_MODEL"}


class LlmConfigError(ValueError):
    """A bad LLM setting; the message names the key, where it came from and what is allowed."""


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
    transcript_dir: Path | None = None  # None: <cache_dir>/llm-transcripts of the run (see ``resolve``)
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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LlmConfig:
        environ = os.environ if environ is None else environ
        fields = {f.name for f in dataclasses.fields(cls)}
        raw: dict[str, Any] = {}
        for name, var in _OPENAI_ENV.items():
            if environ.get(var):
                raw[name] = environ[var]
        for key, value in environ.items():
            if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):].lower() in fields:
                raw[key[len(ENV_PREFIX):].lower()] = value
        return cls.from_dict(raw, where="environment (AIKG_LLM_* / OPENAI_*)")

    @classmethod
    def resolve(
        cls, given: Mapping[str, Any] | LlmConfig | None = None, environ: Mapping[str, str] | None = None,
        cache_dir: Path | str | None = None,
    ) -> LlmConfig:
        """Environment first, then ``given`` on top; a ready ``LlmConfig`` is used as is. Transcripts go where the
        settings say, else under ``cache_dir`` (the run's ``--cache-dir`` / ``Options.cache_dir``)."""
        config = given if isinstance(given, LlmConfig) else cls.from_dict(given or {}, base=cls.from_env(environ))
        if config.transcript_dir is None and cache_dir is not None:
            config = dataclasses.replace(config, transcript_dir=Path(cache_dir) / "llm-transcripts")
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
        number = kind(value)
    except (TypeError, ValueError):
        raise LlmConfigError(f"{name!r} in {where} must be a {kind.__name__}; got {value!r}") from None
    lowest = 1 if name in ("concurrency", "max_tokens") else 0
    if number < lowest:
        raise LlmConfigError(f"{name!r} in {where} must be >= {lowest}; got {value!r}")
    return number


def _choice(name: str, value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise LlmConfigError(f"{name!r} in {where} must be one of {', '.join(allowed)}; got {value!r}")
    return value
