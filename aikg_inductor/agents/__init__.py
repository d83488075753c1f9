"""The LLM agents (Designer, Coder, Conductor), their client for OpenAI-compatible endpoints, and doc packs.

The client's names load on first use, so that reading the configuration (is an endpoint set at all?) does not
import the openai package.
"""

from typing import Any

from .config import LlmConfig, LlmConfigError

_FROM_CLIENT = ("LlmBudgetExceeded", "LlmClient", "LlmError", "LlmReplyError", "LlmUnavailable", "Usage")

__all__ = ["LlmConfig", "LlmConfigError", *_FROM_CLIENT]


def __getattr__(name: str) -> Any:
    if name in _FROM_CLIENT:
        from . import llm_client

        return getattr(llm_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
