"""The LLM agents (Designer, Coder, Conductor), their client for OpenAI-compatible endpoints, and doc packs."""

from .config import LlmConfig, LlmConfigError
from .llm import LlmBudgetExceeded, LlmClient, LlmError, LlmReplyError, LlmUnavailable, Usage

__all__ = [
    "LlmBudgetExceeded",
    "LlmClient",
    "LlmConfig",
    "LlmConfigError",
    "LlmError",
    "LlmReplyError",
    "LlmUnavailable",
    "Usage",
]
