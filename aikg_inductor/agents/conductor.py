"""Conductor: walks the workflow for one task, asking the LLM only where the workflow leaves a choice."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Sequence

from ..task import KernelTask
from .llm import LlmClient, LlmError
from .prompts import render
from .workflow import STOP, Workflow

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Decision:
    step: str
    asked_llm: bool
    reason: str
    tokens: int = 0


@dataclasses.dataclass
class TaskState:
    """Where one task is in the workflow; kept between propose() calls, which the verifier's runs separate."""

    at: str = ""  # the last step run ("" before the first)
    outcome: str = ""  # how it ended: ok / rejected / accepted / correct / failed / unverified
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    total: int = 0
    sketch: str = ""  # the current sketch (canonical text)
    code: str = ""  # the last code the Coder produced (candidate or rejected)
    feedback: str = ""  # why the last step failed, for the next agent
    stopped: bool = False

    def ran(self, step: str, outcome: str) -> None:
        self.at, self.outcome = step, outcome
        self.counts[step] = self.counts.get(step, 0) + 1
        self.total += 1


class Conductor:
    name = "conductor"

    def __init__(self, client: LlmClient, workflow: Workflow) -> None:
        self.client = client
        self.workflow = workflow

    def next_step(self, task: KernelTask, state: TaskState, recent: Sequence[str]) -> Decision:
        if not state.at:
            return Decision(self.workflow.start, False, "start of the workflow")
        choices = self.workflow.allowed(state.at, state.outcome, state.counts, state.total)
        if len(choices) == 1:
            return Decision(choices[0], False, "the only step the workflow allows")
        return self._ask(task, state, choices, recent)

    def _ask(self, task: KernelTask, state: TaskState, choices: list[str], recent: Sequence[str]) -> Decision:
        prompt = render(
            "conductor",
            dsl=task.dsl,
            name=task.name or task.short_key,
            step=state.at,
            outcome=state.outcome,
            feedback=state.feedback or "(none)",
            history="\n".join(recent[-self.workflow.window:]) or "(no attempts yet)",
            choices=", ".join(choices),
            steps_left=self.workflow.max_steps - state.total,
        )
        try:
            request = self.client.request([("system", render("system")), ("user", prompt)], max_tokens=32)
            reply = self.client.complete(request, task.key, {"agent": self.name})
        except LlmError as err:
            # Asking is an optimisation over the workflow's default; a failed question must not end the search.
            log.info("aikg: task %s: conductor could not ask the LLM (%s); taking %s", task.short_key, err, choices[0])
            return Decision(choices[0], False, f"default ({err})")
        picked = parse_choice(reply.text, choices)
        if picked is None:
            log.info("aikg: task %s: conductor reply names no step of %s; taking %s",
                     task.short_key, choices, choices[0])
            return Decision(choices[0], True, "default (reply named no allowed step)", reply.tokens)
        return Decision(picked, True, "chosen by the LLM", reply.tokens)


def parse_choice(text: str, choices: Sequence[str]) -> str | None:
    """The allowed step named first in ``text`` (whole words, case-insensitive), or None."""
    best: tuple[int, str] | None = None
    for choice in choices:
        match = re.search(rf"\b{re.escape(choice)}\b", text, re.IGNORECASE)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), choice)
    return best[1] if best else None


__all__ = ["Conductor", "Decision", "STOP", "TaskState", "parse_choice"]
