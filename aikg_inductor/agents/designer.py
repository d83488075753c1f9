"""Designer: writes a Unified Sketch for a task from its brief, the doc pack and retrieved examples."""

from __future__ import annotations

import dataclasses
from typing import Sequence

from .brief import TaskBrief
from .reply_parsing import strip_thinking
from .llm_client import LlmClient, LlmReply
from .prompts import continuation, render
from .sketch import HEADER, Sketch, parse_sketch
from .transcript import LlmRequest


@dataclasses.dataclass(frozen=True)
class DesignInput:
    brief: TaskBrief
    docs: str  # the trimmed doc pack
    examples: Sequence[str] = ()  # retrieved accepted kernels (sketch and code) of similar tasks
    feedback: str = ""  # optimise / redesign: the previous sketch, its code and what the verifier said of it
    strategy: str = ""  # the lane's focus
    temperature: float | None = None  # the lane's sampling temperature (None: the configured one)


@dataclasses.dataclass(frozen=True)
class DesignResult:
    sketch: Sketch
    reply: LlmReply
    prompt_hash: str


class Designer:
    name = "designer"

    def __init__(self, client: LlmClient) -> None:
        self.client = client

    def messages(self, given: DesignInput) -> list[tuple[str, str]]:
        task = given.brief.task
        user = render(
            "designer",
            facts=given.brief.text(),
            dsl=task.dsl,
            docs=given.docs or "(no doc pack for this DSL)",
            examples="\n\n".join(given.examples) or "(none)",
            strategy=given.strategy or "(any: whatever makes this kernel fastest)",
            feedback=given.feedback or "(first design for this kernel)",
        )
        return [("system", render("system")), ("user", user)]

    def request(self, given: DesignInput) -> LlmRequest:
        # The stop sequence only on completions: a chat reasoning model may write "END" while it thinks.
        stop = ("\nEND",) if self.client.config.endpoint == "completions" else ()
        return self.client.request(self.messages(given), stop=stop, temperature=given.temperature,
                                   prefill=HEADER + "\n")

    def run(self, given: DesignInput) -> DesignResult:
        """Raises LlmError when no reply comes, SketchRejected when the reply holds no usable sketch."""
        request = self.request(given)
        reply = self.client.complete(request, given.brief.task.key, {"agent": self.name})
        sketch = parse_sketch(continuation(HEADER + "\n", strip_thinking(reply.text), request.endpoint))
        return DesignResult(sketch, reply, request.key())
