"""Conductor: walks the workflow for one lane of one task, asking the LLM only where the workflow leaves a choice."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Sequence

from ..task import KernelTask
from .llm_client import LlmClient, LlmError
from .prompts import render
from .workflow import STOP, Workflow

log = logging.getLogger(__name__)

# What each step does, as the Conductor's prompt lists the allowed ones.
STEP_MEANINGS = {
    "fix": "ask the Coder to repair the last code using the feedback",
    "design": "ask the Designer for a different plan",
    "optimise": "ask the Designer to improve the plan that worked, with its code and timings",
    "code": "ask the Coder to write code for the current plan",
    STOP: "end this line of work and keep the best kernel found so far (or Inductor's)",
}
CONDUCTOR_MAX_TOKENS = 256  # a reasoning model thinks before its one word; a longer reply is asked again


@dataclasses.dataclass(frozen=True)
class Decision:
    step: str
    asked_llm: bool
    reason: str
    tokens: int = 0


@dataclasses.dataclass
class TaskState:
    """Where one lane of one task is in the workflow; kept between propose() calls, which the verifier's runs
    separate."""

    at: str = ""  # the last step run ("" before the first)
    outcome: str = ""  # how it ended: ok / rejected / accepted / correct / failed / unverified
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    total: int = 0
    sketch: str = ""  # the current sketch (canonical text)
    code: str = ""  # the last code the Coder produced (candidate or rejected)
    verdict: str = ""  # the verifier's summary of ``code``, once it came
    feedback: str = ""  # why the last step failed, for the next agent
    stopped: bool = False

    def ran(self, step: str, outcome: str) -> None:
        self.at, self.outcome = step, outcome
        self.counts[step] = self.counts.get(step, 0) + 1
        self.total += 1


@dataclasses.dataclass(frozen=True)
class LaneBudget:
    """What one lane may still spend: the Conductor states it, the proposer enforces it."""

    lane: int
    steps_left: int
    tokens_left: int


class Conductor:
    name = "conductor"

    def __init__(self, client: LlmClient, workflow: Workflow) -> None:
        self.client = client
        self.workflow = workflow

    def next_step(self, task: KernelTask, state: TaskState, history: Sequence[str], budget: LaneBudget) -> Decision:
        """The next step for this lane; ``history`` is this lane's own attempts, oldest first."""
        if not state.at:
            return Decision(self.workflow.start, False, "start of the workflow")
        choices = self.workflow.allowed(state.at, state.outcome, state.counts, state.total)
        if len(choices) == 1:
            return Decision(choices[0], False, "the only step the workflow allows")
        return self._ask(task, state, choices, history, budget)

    def prompt(self, task: KernelTask, state: TaskState, choices: Sequence[str], history: Sequence[str],
               budget: LaneBudget) -> str:
        return render(
            "conductor",
            dsl=task.dsl,
            name=task.name or task.short_key,
            lane=budget.lane,
            step=state.at,
            outcome=state.outcome,
            feedback=state.feedback or "(none)",
            history="\n".join(history[-self.workflow.window:]) or "(no attempts yet)",
            steps_left=budget.steps_left,
            tokens_left=f"{budget.tokens_left:,}",
            choices="\n".join(f"- {c}: {STEP_MEANINGS.get(c, 'run step ' + c)}" for c in choices),
            names=", ".join(choices),
        )

    def _ask(self, task: KernelTask, state: TaskState, choices: list[str], history: Sequence[str],
             budget: LaneBudget) -> Decision:
        prompt = self.prompt(task, state, choices, history, budget)
        messages = [("system", render("system")), ("user", prompt)]
        tokens = 0
        for attempt in range(2):
            try:
                request = self.client.request(messages, max_tokens=CONDUCTOR_MAX_TOKENS)
                reply = self.client.complete(request, task.key, {"agent": self.name})
            except LlmError as err:
                # Asking is an optimisation over the workflow's default; a failed question must not end the lane.
                log.info("aikg: task %s: conductor could not ask the LLM (%s); taking %s", task.short_key, err,
                         choices[0])
                return Decision(choices[0], attempt > 0, f"workflow default: the LLM could not be asked ({err})",
                                tokens)
            tokens += reply.tokens
            picked = parse_choice(reply.text, choices)
            if picked is not None:
                return Decision(picked, True, "chosen by the LLM", tokens)
            # Re-asked once with the reply and what was wrong with it, never mapped to a step it did not name.
            messages = [*messages, ("assistant", reply.text.strip()[:500]),
                        ("user", f"That names none of the allowed steps. Answer with exactly one of: "
                                 f"{', '.join(choices)}.")]
        log.warning("aikg: task %s: conductor named no allowed step of %s twice; taking the workflow's default %s",
                    task.short_key, choices, choices[0])
        return Decision(choices[0], True, "workflow default: the LLM named no allowed step twice", tokens)


def parse_choice(text: str, choices: Sequence[str]) -> str | None:
    """The allowed step ``text`` answers with: on the last line that names any (a model weighs options before it
    answers), the one named first. Thinking is ignored; None if no allowed step is named."""
    from .reply_parsing import strip_thinking

    for line in reversed(strip_thinking(text).splitlines()):
        found = [(m.start(), c) for c in choices for m in re.finditer(rf"\b{re.escape(c)}\b", line, re.IGNORECASE)]
        if found:
            return min(found)[1]
    return None


__all__ = ["Conductor", "Decision", "LaneBudget", "STOP", "TaskState", "parse_choice"]
