"""Coder: turns a sketch into kernel code in the task's DSL, keeping the baseline's signature."""

from __future__ import annotations

import dataclasses

from ..task import KernelTask
from .brief import describe_args, describe_origins
from .code import CodeRejected, conform, extract_code, fence_language, parse_signature
from .llm import LlmClient, LlmReply
from .prompts import continuation, render


@dataclasses.dataclass(frozen=True)
class CodeInput:
    task: KernelTask
    sketch: str
    docs: str
    previous_code: str = ""  # fix mode: the code that failed
    feedback: str = ""  # fix mode: why it failed (the verifier's report or the Coder's own rejection)


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
        task = given.task
        signature = parse_signature(task.source, task.dsl)
        common = dict(
            dsl=task.dsl,
            origins=describe_origins(task),
            args=describe_args(task),
            signature=signature.describe() if signature else "(see the baseline)",
            baseline_source=task.source,
            sketch=given.sketch,
            docs=given.docs or "(no doc pack for this DSL)",
            fence=fence_language(task.dsl),
        )
        if given.previous_code:
            user = render("coder_fix", previous_code=given.previous_code, feedback=given.feedback, **common)
        else:
            user = render("coder", **common)
        return [("system", render("system")), ("user", user)]

    def run(self, given: CodeInput) -> CodeResult:
        """Raises LlmError when no reply comes, CodeReplyRejected when the reply holds no kernel with the task's
        signature."""
        messages = self.messages(given)
        # The completions prompt ends inside an open fence, so the closing fence ends the code; a chat model writes
        # its own opening fence, which a stop sequence would cut at.
        stop = ("\n```",) if self.client.config.endpoint == "completions" else ()
        request = self.client.request(messages, stop=stop)
        reply = self.client.complete(request, given.task.key, {"agent": self.name})
        try:
            code = extract_code(continuation(messages[-1][1], reply.text, self.client.config.endpoint), given.task.dsl)
            code, repairs = conform(code, given.task)
        except CodeRejected as err:
            raise CodeReplyRejected(str(err), reply, request.key()) from None
        return CodeResult(code, tuple(repairs), reply, request.key())
