"""Getting kernel code out of an LLM reply, and checking it keeps the task's signature.

The verifier's static guards check signatures again; checking here too lets the Coder reject a reply (and say why
to the Conductor) without spending a verification, and lets it repair the two slips models make most: a renamed
kernel function and a dropped ``cpp_prefix.h`` include.
"""

from __future__ import annotations

import dataclasses
import re

from ..dsl.triton_launcher import is_launcher_form
from ..task import KernelTask

CPP_PREFIX_INCLUDE = "#include <torch/csrc/inductor/cpp_prefix.h>"

# A complete fenced block: an opening fence with an optional language, its body, a closing fence on its own line.
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[ \t]*\n(.*?)^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE)
# Reasoning models' drafts: a closed <think> block, or an unclosed one at the start whose end was the reply's.
_THINKING = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_LANGUAGES = {"cpp": {"", "cpp", "c++", "cxx", "cc", "c"}, "python": {"", "python", "py", "python3", "triton"}}
# extern "C" <return type> <name>(<params>) — the name may be Inductor's placeholder with a dot in it.
_CPP_SIG = re.compile(r'extern\s+"C"\s+[\w\s]*?\bvoid\s+([\w.]+)\s*\(([^)]*)\)', re.DOTALL)
_PY_DEF = re.compile(r"^def\s+([\w.]+)\s*\(([^)]*)\)\s*:", re.MULTILINE)


class CodeRejected(ValueError):
    """The reply holds no usable kernel; the message is the reason given back to the Conductor."""


@dataclasses.dataclass(frozen=True)
class Signature:
    name: str
    params: tuple[tuple[str, str], ...]  # (type, name) for C++; ("", name) for Triton

    def describe(self) -> str:
        return ", ".join(f"{t} {n}".strip() for t, n in self.params)


def fence_language(dsl: str) -> str:
    return "cpp" if dsl.startswith("cpp") else "python"


def parse_signature(source: str, dsl: str) -> Signature | None:
    """The kernel's entry point: the ``extern "C"`` function for C++, the first top-level ``def`` for Triton."""
    if dsl.startswith("cpp"):
        match = _CPP_SIG.search(source)
        if not match:
            return None
        params = []
        for raw in match.group(2).split(","):
            raw = " ".join(raw.split())
            if not raw:
                continue
            # "const float* in_ptr0", "const float *in_ptr0", "int64_t ks0"
            name_match = re.search(r"[\w]+$", raw)
            if not name_match:
                return None
            ctype = raw[: name_match.start()].replace(" *", "*").strip()
            params.append((ctype, name_match.group(0)))
        return Signature(match.group(1), tuple(params))
    match = _PY_DEF.search(source)
    if not match:
        return None
    params = tuple(("", p.split(":")[0].split("=")[0].strip()) for p in match.group(2).split(",") if p.strip())
    return Signature(match.group(1), params)


def strip_thinking(reply: str) -> str:
    """``reply`` without reasoning blocks: a model's draft inside ``<think>`` must not beat its final answer."""
    text = _THINKING.sub("", reply)
    if "</think>" in text:  # the opening tag was in the prompt's template (some servers add it), the end is here
        text = text.rsplit("</think>", 1)[1]
    return text


def extract_code(reply: str, dsl: str) -> str:
    """The last complete code block of ``reply`` in the DSL's language that holds a kernel entry point (a model's
    final answer comes after its drafts); raises CodeRejected when there is none."""
    text = strip_thinking(reply)
    languages = _LANGUAGES[fence_language(dsl)]
    blocks = [body for language, body in _FENCE.findall(text) if language.lower() in languages]
    # A reply with no fence at all may still be bare code (base models often skip the fence).
    candidates = blocks or ([] if "```" in text else [text])
    for block in reversed(candidates):
        if parse_signature(block, dsl) is not None:
            return block.strip() + "\n"
    if not text.strip():
        raise CodeRejected("empty reply" if not reply.strip() else "the reply holds only reasoning, no answer")
    if "```" in text and not blocks:
        raise CodeRejected(f"no complete {fence_language(dsl)} code block in the reply (an unclosed or "
                           "other-language fence)")
    if not blocks:
        raise CodeRejected("no code block in the reply")
    what = 'an extern "C" function' if dsl.startswith("cpp") else "a def"
    raise CodeRejected(f"no kernel entry point ({what}) in the reply's code blocks")


def conform(code: str, task: KernelTask) -> tuple[str, list[str]]:
    """``code`` made to fit ``task``'s calling convention, and the repairs made; raises CodeRejected when its
    parameters differ from the baseline's (order, names or types). A Triton module in the launcher form is left as
    it is: its entry point is ``launch``, whose parameters the guards check against the baseline's."""
    if task.dsl.startswith("triton") and is_launcher_form(code):
        return code, []
    want = parse_signature(task.source, task.dsl)
    got = parse_signature(code, task.dsl)
    if want is None:
        raise CodeRejected("the baseline's signature could not be parsed")
    if got is None:
        raise CodeRejected("no kernel entry point in the code")
    if got.params != want.params:
        raise CodeRejected(f"signature differs from the baseline: got ({got.describe()}), want ({want.describe()})")
    repairs = []
    if got.name != want.name:
        # The loader fills Inductor's name placeholder in; any other name would not be found.
        code = _rename(code, got, want.name, task.dsl)
        repairs.append(f"kernel renamed {got.name} -> {want.name}")
    if task.dsl.startswith("cpp") and CPP_PREFIX_INCLUDE in task.source and CPP_PREFIX_INCLUDE not in code:
        code = CPP_PREFIX_INCLUDE + "\n" + code
        repairs.append("cpp_prefix.h include added")
    return code, repairs


def _rename(code: str, got: Signature, name: str, dsl: str) -> str:
    pattern = _CPP_SIG if dsl.startswith("cpp") else _PY_DEF
    match = pattern.search(code)
    assert match is not None
    start, end = match.span(1)
    return code[:start] + name + code[end:]
