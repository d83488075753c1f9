"""Getting kernel code out of an LLM reply, and checking it keeps the task's signature.

The verifier's static guards check signatures again; checking here too lets the Coder reject a reply (and say why
to the Conductor) without spending a verification, and lets it repair the two slips models make most: a renamed
kernel function and a dropped prelude (``DslAdapter.restore_prelude``: C++'s ``cpp_prefix.h`` include).
"""

from __future__ import annotations

import re

from ..dsl import adapter_for
from ..task import KernelTask

# A complete fenced block: an opening fence with an optional language, its body, a closing fence on its own line.
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[ \t]*\n(.*?)^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE)
# Reasoning models' drafts: a closed <think> block, or an unclosed one at the start whose end was the reply's.
_THINKING = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)


class CodeRejected(ValueError):
    """The reply holds no usable kernel; the message is the reason given back to the Conductor."""


def strip_thinking(reply: str) -> str:
    """``reply`` without reasoning blocks: a model's draft inside ``<think>`` must not beat its final answer."""
    text = _THINKING.sub("", reply)
    if "</think>" in text:  # the opening tag was in the prompt's template (some servers add it), the end is here
        text = text.rsplit("</think>", 1)[1]
    return text


def extract_code(reply: str, dsl: str) -> str:
    """The last complete code block of ``reply`` in the DSL's language that holds a kernel entry point (a model's
    final answer comes after its drafts); raises CodeRejected when there is none."""
    adapter = adapter_for(dsl)
    text = strip_thinking(reply)
    blocks = [body for language, body in _FENCE.findall(text) if language.lower() in adapter.fence_tags]
    # A reply with no fence at all may still be bare code (base models often skip the fence).
    candidates = blocks or ([] if "```" in text else [text])
    for block in reversed(candidates):
        if adapter.parse_signature(block) is not None:
            return block.strip() + "\n"
    if not text.strip():
        raise CodeRejected("empty reply" if not reply.strip() else "the reply holds only reasoning, no answer")
    if "```" in text and not blocks:
        raise CodeRejected(f"no complete {adapter.language} code block in the reply (an unclosed or "
                           "other-language fence)")
    if not blocks:
        raise CodeRejected("no code block in the reply")
    raise CodeRejected(f"no kernel entry point ({adapter.entry_point}) in the reply's code blocks")


def conform(code: str, task: KernelTask) -> tuple[str, list[str]]:
    """``code`` made to fit ``task``'s calling convention, and the repairs made; raises CodeRejected when its
    parameters differ from the baseline's (order, names or types). A module that brings its own launcher (Triton's
    launcher form) is left as it is: its entry point's parameters are the guards' to check against the baseline's."""
    adapter = adapter_for(task.dsl)
    if adapter.own_launcher(code):
        return code, []
    want = adapter.parse_signature(task.source)
    got = adapter.parse_signature(code)
    if want is None:
        raise CodeRejected("the baseline's signature could not be parsed")
    if got is None:
        raise CodeRejected("no kernel entry point in the code")
    if got.params != want.params:
        raise CodeRejected(f"signature differs from the baseline: got ({got.describe()}), want ({want.describe()})")
    repairs = []
    if got.name != want.name:
        # The loader fills Inductor's name placeholder in; any other name would not be found.
        code = adapter.rename_entry_point(code, want.name)
        repairs.append(f"kernel renamed {got.name} -> {want.name}")
    code, restored = adapter.restore_prelude(task.source, code)
    return code, repairs + restored
