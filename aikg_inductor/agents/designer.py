"""Designer: writes a Unified Sketch for a task from its description, the doc pack and retrieved examples."""

from __future__ import annotations

import dataclasses
from typing import Sequence

from ..task import KernelTask
from .brief import describe_args, describe_baseline_time, describe_origins
from .llm import LlmClient, LlmReply
from .prompts import continuation, render
from .sketch import HEADER, Sketch, parse_sketch


@dataclasses.dataclass(frozen=True)
class DesignInput:
    task: KernelTask
    docs: str  # the trimmed doc pack
    examples: Sequence[str] = ()  # retrieved accepted kernels (sketch and code) of similar tasks
    baseline_s: float | None = None
    feedback: str = ""  # optimise / redesign: the previous sketch and what the verifier said of it


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
        task = given.task
        user = render(
            "designer",
            dsl=task.dsl,
            device=task.device_type,
            arch=task.arch,
            name=task.name or "unnamed",
            origins=describe_origins(task),
            args=describe_args(task),
            baseline_time=describe_baseline_time(given.baseline_s),
            baseline_source=task.source,
            docs=given.docs or "(no doc pack for this DSL)",
            examples="\n\n".join(given.examples) or "(none)",
            feedback=given.feedback or "(first design for this kernel)",
            header=HEADER,
        )
        return [("system", render("system")), ("user", user)]

    def run(self, given: DesignInput) -> DesignResult:
        """Raises LlmError when no reply comes, SketchRejected when the reply holds no usable sketch."""
        messages = self.messages(given)
        request = self.client.request(messages, stop=("\nEND",))
        reply = self.client.complete(request, given.task.key, {"agent": self.name})
        sketch = parse_sketch(continuation(messages[-1][1], reply.text, self.client.config.endpoint))
        return DesignResult(sketch, reply, request.key())
