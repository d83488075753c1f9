"""The kernel contract as the agents are told it: sections of ``docs/kernel_contract.md``, verbatim.

The file is the one statement of what a candidate may be and what the verifier checks; prompts carry its sections
unchanged (never a paraphrase), so what the model is told and what the guards enforce cannot drift apart in two
texts. ``kernel_contract.md`` beside this module is a symlink to ``docs/kernel_contract.md`` (and a copy in a wheel).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from ..dsl import UnknownDslError, adapter_for

CONTRACT_PATH = Path(__file__).resolve().parent / "kernel_contract.md"
COMMON = ("What a candidate is",)
CHECKS = ("What the verifier checks", "Timing")


class ContractError(LookupError):
    pass


@functools.lru_cache(maxsize=None)
def sections(path: Path = CONTRACT_PATH) -> dict[str, str]:
    """``## `` heading (up to any parenthesis) -> the section's text, heading included."""
    text = path.read_text()
    found: dict[str, str] = {}
    for match in re.finditer(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL):
        title = match.group(1).split("(")[0].strip()
        found[title] = f"## {match.group(1)}\n{match.group(2).strip()}"
    return found


def contract_for(dsl: str, path: Path = CONTRACT_PATH) -> str:
    """The contract sections that bind a ``dsl`` candidate: what a candidate is, the DSL's rules, the checks and
    the timing, in that order."""
    try:
        section = adapter_for(dsl).contract_section
    except UnknownDslError:
        raise ContractError(f"the kernel contract has no section for DSL {dsl!r}") from None
    found = sections(path)
    wanted = (*COMMON, section, *CHECKS)
    missing = [w for w in wanted if w not in found]
    if missing:
        raise ContractError(f"{path}: missing section(s) {', '.join(missing)}")
    return "\n\n".join(found[w] for w in wanted)
