"""Prompt templates: markdown files under ``prompts/`` filled with ``string.Template`` (``$name``; ``$$`` is a
literal dollar). Kernel code is full of braces, which is why ``str.format`` is not used."""

from __future__ import annotations

import functools
import string
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"


class PromptError(KeyError):
    pass


@functools.lru_cache(maxsize=None)
def _template(path: Path) -> string.Template:
    return string.Template(path.read_text())


def render(template: str, /, prompts_dir: Path = PROMPTS_DIR, **values: object) -> str:
    """The template ``<prompts_dir>/<template>.md`` filled with ``values``; every placeholder must be given."""
    try:
        return _template(prompts_dir / f"{template}.md").substitute({k: str(v) for k, v in values.items()})
    except KeyError as err:
        raise PromptError(f"prompt template {template}.md needs a value for {err.args[0]!r}") from None


def continuation(prefill: str, reply: str, endpoint: str) -> str:
    """``reply`` as a whole answer. A completions request ends its document on ``prefill`` (an opening code fence, a
    sketch header) for a base model to continue from, and the stop sequence cuts the closing fence: both are put
    back. A chat prompt never ends on an open fence (today's chat models write their own), so a chat reply stands
    alone."""
    if endpoint != "completions" or not prefill:
        return reply
    text = prefill + reply
    if prefill.startswith("```") and not reply.rstrip().endswith("```"):
        text = text.rstrip("\n") + "\n```\n"
    return text
