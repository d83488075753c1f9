"""``LlmProposer``: candidates from the LLM agents (Designer -> Coder), steered by the Conductor's workflow.

Each ``propose`` call walks the workflow until the Coder produces one candidate (or the workflow, a budget or the
endpoint says stop): the next step depends on the verifier's report on that candidate, which only arrives with the
next call's history. Every failure (endpoint down, junk reply, wrong signature) is logged with its reason and ends
in fewer candidates, never an exception, so Inductor's kernel is kept.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import time
from typing import Any, Callable, Sequence

from ...agents.coder import CodeInput, Coder, CodeReplyRejected
from ...agents.conductor import Conductor, TaskState
from ...agents.config import LlmConfig
from ...agents.designer import DesignInput, Designer
from ...agents.docpacks import pack_for
from ...agents.llm import LlmBudgetExceeded, LlmClient, LlmError
from ...agents.sketch import SketchRejected
from ...agents.workflow import STOP, Workflow, load_workflow
from ...task import KernelTask
from .base import Attempt, Candidate, SearchContext

log = logging.getLogger(__name__)

FEEDBACK_CHARS = 2000  # of a verifier report or compiler output shown back to the agents
LESSON_CHARS = 200  # of each earlier failure's reason shown to the Designer


@dataclasses.dataclass(frozen=True)
class StepRecord:
    """One workflow step for a task, for the Conductor's window, logs and ``aikg tune``'s summary."""

    step: str
    outcome: str
    reason: str = ""
    tokens: int = 0
    prompt_hash: str = ""

    def line(self) -> str:
        return f"- {self.step}: {self.outcome}" + (f" ({self.reason[:300]})" if self.reason else "")


class LlmProposer:
    name = "llm"

    def __init__(
        self,
        client: LlmClient | None = None,
        workflow: Workflow | None = None,
        docs_token_budget: int = 1500,
        examples: Callable[[KernelTask], Sequence[str]] | None = None,
        baseline_seconds: Callable[[KernelTask], float | None] | None = None,
    ) -> None:
        self.client = client or LlmClient(LlmConfig.resolve())
        self.workflow = workflow or load_workflow()
        self.designer = Designer(self.client)
        self.coder = Coder(self.client)
        self.conductor = Conductor(self.client, self.workflow)
        self.docs_token_budget = docs_token_budget
        self._examples = examples
        self._baseline_seconds = baseline_seconds
        # The search may run this many conversations per task at once; the client's concurrency bounds requests.
        self.lanes = self.client.config.concurrency
        self.states: dict[tuple[str, int], TaskState] = {}
        self.records: dict[str, list[StepRecord]] = {}
        self._docs: dict[str, str] = {}

    # ------------------------------------------------------------------ Proposer protocol

    def propose(self, task: KernelTask, context: SearchContext, limit: int) -> list[Candidate]:
        # One workflow state per lane: lanes are independent conversations the search may run at the same time.
        state = self.states.setdefault((task.key, context.lane), TaskState())
        if limit < 1 or state.stopped:
            return []
        self._absorb_verdict(task, state, context.attempts)
        while True:
            if context.deadline is not None and time.monotonic() >= context.deadline:
                # The wall budget is spent mid-way (code that failed its checks keeps the loop fixing): no new
                # step now, and the conversation stays open for a later run with budget left.
                log.info("aikg: task %s: llm waits for a later run: the wall-time budget is spent", task.short_key)
                return []
            records = self.records.setdefault(task.key, [])
            decision = self.conductor.next_step(task, state, [r.line() for r in records])
            if decision.step == STOP:
                state.stopped = True
                self._note(task, StepRecord(STOP, "stopped", decision.reason, decision.tokens))
                return []
            try:
                candidate = self._run(task, state, decision.step, context)
            except LlmBudgetExceeded as err:
                state.stopped = True
                self._note(task, StepRecord(decision.step, "budget", str(err)))
                return []
            except LlmError as err:
                # Endpoint down, timing out, rate-limited past the retries, or an empty / malformed reply: this
                # call yields nothing; a later call (more budget, the endpoint back) may try again.
                self._note(task, StepRecord(decision.step, "llm-error", str(err)))
                return []
            if candidate is not None:
                return [candidate]

    # ------------------------------------------------------------------ steps

    def _run(self, task: KernelTask, state: TaskState, step: str, context: SearchContext) -> Candidate | None:
        spec = self.workflow.steps[step]
        if spec.agent == "designer":
            self._design(task, state, step, spec.mode, context)
            return None
        return self._code(task, state, step, spec.mode == "fix")

    def _design(self, task: KernelTask, state: TaskState, step: str, mode: str, context: SearchContext) -> None:
        feedback = state.feedback  # why the last design was unusable, if it was
        if state.sketch:
            verb = "Improve this plan" if mode == "optimise" else "Propose a different plan than this one"
            feedback = f"{verb}:\n{state.sketch}\nWhat happened: {state.feedback or 'n/a'}"
        feedback = "\n".join(part for part in (feedback, _lessons(context)) if part)
        given = DesignInput(
            task, self.docs_for(task), self._examples_for(task), self._baseline_for(task, context.attempts), feedback
        )
        try:
            result = self.designer.run(given)
        except SketchRejected as err:
            state.ran(step, "rejected")
            state.feedback = f"the design was unusable: {err}"
            self._note(task, StepRecord(step, "rejected", str(err)))
            return
        state.ran(step, "ok")
        state.sketch, state.feedback = result.sketch.text(), ""
        self._note(task, StepRecord(step, "ok", "", result.reply.tokens, result.prompt_hash))

    def _code(self, task: KernelTask, state: TaskState, step: str, fix: bool) -> Candidate | None:
        given = CodeInput(
            task,
            state.sketch,
            self.docs_for(task),
            previous_code=state.code if fix else "",
            feedback=state.feedback if fix else "",
        )
        if fix and not given.previous_code:
            given = dataclasses.replace(given, previous_code="(the previous reply held no usable code)")
        try:
            result = self.coder.run(given)
        except CodeReplyRejected as err:
            state.ran(step, "rejected")
            state.feedback = f"the reply was rejected before verification: {err.reason}"
            state.code = _code_excerpt(err.reply.text)
            self._note(task, StepRecord(step, "rejected", err.reason, err.reply.tokens, err.prompt_hash))
            return None
        state.ran(step, "ok")
        state.code, state.feedback = result.code, ""
        # The verifier's report on this candidate decides the next step; until it comes the state is "unverified".
        state.at, state.outcome = "verify", "unverified"
        repairs = "; ".join(result.repairs)
        self._note(task, StepRecord(step, "candidate", repairs, result.reply.tokens, result.prompt_hash))
        return Candidate(
            source=result.code,
            proposer=self.name,
            notes={
                "step": step,
                "sketch": state.sketch,
                "model": result.reply.model,
                "prompt_hash": result.prompt_hash,
                "tokens": result.reply.tokens,
                "task_tokens": self.client.usage_for(task.key).tokens,
                "repairs": list(result.repairs),
                "workflow": self.workflow.name,
            },
        )

    # ------------------------------------------------------------------ context

    def _absorb_verdict(self, task: KernelTask, state: TaskState, history: Sequence[Attempt]) -> None:
        """Turn the verifier's report on our last candidate (if the history has it) into the workflow's outcome."""
        if state.at != "verify" or state.outcome != "unverified":
            return
        attempt = next((a for a in history if a.candidate.source == state.code), None)
        if attempt is None:
            return
        report = attempt.report
        rule = getattr(report, "rule", None)
        if report.verdict == "accepted":
            state.outcome = "accepted"
        elif rule in self.workflow.correct_rules:
            state.outcome = "correct"
        else:
            state.outcome = "failed"
        summary = report.summary() if hasattr(report, "summary") else report.reason
        state.feedback = _without_command_line(summary)[:FEEDBACK_CHARS]
        self._note(task, StepRecord("verify", state.outcome, report.reason))

    def docs_for(self, task: KernelTask) -> str:
        """The trimmed doc pack the agents see for ``task`` (cached per task)."""
        if task.key not in self._docs:
            pack = pack_for(task.dsl)
            if pack is None:
                log.warning("aikg: no doc pack for %s; the agents work from the baseline alone", task.dsl)
            self._docs[task.key] = pack.context(task, self.docs_token_budget) if pack else ""
        return self._docs[task.key]

    def _examples_for(self, task: KernelTask) -> Sequence[str]:
        return tuple(self._examples(task)) if self._examples else ()

    def _baseline_for(self, task: KernelTask, history: Sequence[Attempt]) -> float | None:
        measured = [t for a in history for t in getattr(a.report, "baseline_s", [])]
        if measured:
            return statistics.median(measured)
        return self._baseline_seconds(task) if self._baseline_seconds else None

    def _note(self, task: KernelTask, record: StepRecord) -> None:
        self.records.setdefault(task.key, []).append(record)
        level = logging.INFO if record.outcome in ("ok", "candidate", "accepted", "correct") else logging.WARNING
        log.log(level, "aikg: task %s: llm %s -> %s%s", task.short_key, record.step, record.outcome,
                f": {record.reason}" if record.reason else "")

    def summary(self, task_key: str) -> dict[str, Any]:
        """Steps, candidates and tokens for one task (for ``aikg tune``'s per-kernel lines)."""
        records = self.records.get(task_key, [])
        usage = self.client.usage_for(task_key)
        return {
            "steps": [dataclasses.asdict(r) for r in records],
            "candidates": sum(r.outcome == "candidate" for r in records),
            "rejected": sum(r.outcome == "rejected" for r in records),
            "tokens": usage.tokens,
            "llm_calls": usage.calls,
            "llm_seconds": round(usage.seconds, 2),
        }


def _lessons(context: SearchContext) -> str:
    """What the search learnt so far, for the Designer: the best speeds reached and recent failures with reasons."""
    lines = []
    for attempt in (context.parent, *context.inspirations):
        if attempt is not None and attempt.report.speedup is not None:
            lines.append(f"- a {attempt.candidate.proposer} candidate ran at {attempt.report.speedup:.2f}x "
                         f"the baseline{_config_words(attempt)}")
    for attempt in context.failures:
        lines.append(f"- avoid: a {attempt.candidate.proposer} candidate was rejected [{attempt.report.rule}]: "
                     f"{attempt.report.reason[:LESSON_CHARS]}")
    return "Earlier attempts on this kernel:\n" + "\n".join(lines) if lines else ""


def _config_words(attempt: Attempt) -> str:
    config = attempt.candidate.notes.get("config")
    return f" with launch configuration {config}" if config else ""


def _without_command_line(text: str) -> str:
    # A compile error's report holds the full compiler command line before the compiler's output; the agents need
    # the output, and the command line would take most of the feedback's room.
    head, sep, output = text.partition("\nOutput:\n")
    return (head.split("\nCommand:", 1)[0] + "\n" + output) if sep else text


def _code_excerpt(reply: str) -> str:
    return reply.strip()[:FEEDBACK_CHARS] or "(empty reply)"
