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


def open_marker(prompt: str) -> str:
    """The marker a prompt ends on for the model to continue from (an opening code fence, a sketch header), or "".

    A completions endpoint continues after it, so the reply lacks it; the agents put it back before parsing.
    """
    last = prompt.rstrip("\n").rsplit("\n", 1)[-1]
    return last + "\n" if last.startswith("```") or last.startswith("SKETCH ") else ""


def continuation(prompt: str, reply: str, endpoint: str) -> str:
    """``reply`` as a whole answer: a completions reply continues the prompt after its open marker, so the marker
    is put back in front; a chat reply stands alone."""
    return (open_marker(prompt) if endpoint == "completions" else "") + reply
