"""Coder: turns a sketch into kernel code in the task's DSL, keeping the baseline's signature."""

from __future__ import annotations

import dataclasses
from typing import Sequence

from ..dsl import adapter_for
from .brief import TaskBrief
from .reply_parsing import CodeRejected, conform, extract_code
from .llm_client import LlmClient, LlmReply
from .prompts import continuation, render
from .transcript import LlmRequest


@dataclasses.dataclass(frozen=True)
class CodeReference:
    """A kernel shown to the Coder whole: its own last one, the search's parent, an inspiration."""

    title: str  # "Your last kernel", "The best kernel so far", ...
    code: str
    verdict: str  # the verifier's summary: verdict, timings, speedup, or why it failed

    def text(self, fence: str) -> str:
        return f"## {self.title}\n{self.verdict.strip()}\n```{fence}\n{self.code.strip()}\n```"


@dataclasses.dataclass(frozen=True)
class CodeInput:
    brief: TaskBrief
    sketch: str
    docs: str
    references: Sequence[CodeReference] = ()
    previous_code: str = ""  # fix mode: the code that failed
    feedback: str = ""  # fix mode: why it failed (the verifier's report or the Coder's own rejection)
    temperature: float | None = None


@dataclasses.dataclass(frozen=True)
class CodeResult:
    code: str
    repairs: tuple[str, ...]
    reply: LlmReply
    prompt_hash: str


class CodeReplyRejected(ValueError):
    """The reply held no usable kernel; carries the reply so its tokens and prompt hash are still reported."""

    def __init__(self, reason: str, reply: LlmReply, prompt_hash: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply
        self.prompt_hash = prompt_hash


class Coder:
    name = "coder"

    def __init__(self, client: LlmClient) -> None:
        self.client = client

    def messages(self, given: CodeInput) -> list[tuple[str, str]]:
        task = given.brief.task
        fence = adapter_for(task.dsl).language
        common = dict(
            facts=given.brief.text(),
            dsl=task.dsl,
            sketch=given.sketch or "(no sketch: improve on the kernels below)",
            references="\n\n".join(r.text(fence) for r in given.references) or "(none yet)",
            docs=given.docs or "(no doc pack for this DSL)",
            fence=fence,
        )
        if given.previous_code:
            user = render("coder_fix", previous_code=given.previous_code.strip(), feedback=given.feedback, **common)
        else:
            user = render("coder", **common)
        return [("system", render("system")), ("user", user)]

    def request(self, given: CodeInput) -> LlmRequest:
        # On completions the document ends on an opening fence the base model continues, and the closing fence
        # ends the code; a chat model writes its own fences, which a stop sequence would cut at.
        fence = "```" + adapter_for(given.brief.task.dsl).language + "\n"
        stop = ("\n```",) if self.client.config.endpoint == "completions" else ()
        return self.client.request(self.messages(given), stop=stop, temperature=given.temperature, prefill=fence)

    def run(self, given: CodeInput) -> CodeResult:
        """Raises LlmError when no reply comes, CodeReplyRejected when the reply holds no kernel with the task's
        signature."""
        task = given.brief.task
        request = self.request(given)
        reply = self.client.complete(request, task.key, {"agent": self.name})
        prefill = "```" + adapter_for(task.dsl).language + "\n"
        try:
            code = extract_code(continuation(prefill, reply.text, request.endpoint), task.dsl)
            code, repairs = conform(code, task)
        except CodeRejected as err:
            raise CodeReplyRejected(str(err), reply, request.key()) from None
        return CodeResult(code, tuple(repairs), reply, request.key())
