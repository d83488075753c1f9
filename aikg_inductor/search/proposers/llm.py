"""``LlmProposer``: candidates from the LLM agents (Designer -> Coder), steered by the Conductor's workflow.

The search runs the proposer in several lanes at once: independent conversations, each with its own focus and
sampling temperature (so lanes do not send identical prompts and collapse into duplicates), its own workflow state
and history, and its own share of the task's token budget (so parallel lanes cannot spend the budget in a burst).
Each ``propose`` call walks one lane's workflow until the Coder produces one candidate (or the workflow, a budget
or the endpoint says stop): the next step depends on the verifier's report on that candidate, which only arrives
with the next call's history. A lane that stops (the Conductor's stop, its budget, repeated endpoint failures)
ends only that lane; the proposer is done when every lane is. Every failure is logged with its reason and ends in
fewer candidates, never an exception, so Inductor's kernel is kept.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from ...agents.brief import TaskBrief
from ...agents.coder import CodeInput, CodeReference, Coder, CodeReplyRejected
from ...agents.conductor import Conductor, LaneBudget, TaskState
from ...agents.designer import DesignInput, Designer
from ...agents.device_facts import DeviceFacts, facts_for
from ...agents.docpacks import pack_for, search_dirs
from ...agents.llm_client import LlmBudgetExceeded, LlmClient, LlmDeadlinePassed, LlmError, deadline
from ...agents.sketch import SketchRejected
from ...agents.workflow import STOP, Workflow, load_workflow
from ...options import DEFAULT_MARGIN
from ...task import KernelTask
from .base import Attempt, Candidate, Proposer, SearchContext

log = logging.getLogger(__name__)

FEEDBACK_CHARS = 4000  # of a verifier report or compiler output shown back to the agents
LESSON_CHARS = 300  # of each earlier failure's reason shown to the Designer
LANE_ERRORS = 3  # consecutive endpoint failures after which a lane stops

# Lanes differ in focus and temperature, so parallel conversations explore different kernels (lane i takes entry
# i modulo the list). The first lane is the plain one.
LANE_STRATEGIES: tuple[tuple[str, float], ...] = (
    ("Whatever makes this kernel fastest; start from the baseline's structure and remove its waste.", 0.0),
    ("Fewer passes over memory: fuse the baseline's loops, keep intermediates in registers or cache, read each "
     "input once where the numerics allow (online / single-pass reductions).", 0.3),
    ("Better parallel split and wider vectors: how the work is divided over threads or programs, per-thread "
     "work size, vector width and tails.", 0.5),
    ("Numerics-preserving algebraic rewrites: fewer divisions and transcendentals, reciprocals, exp2 forms, "
     "cheaper reductions, without leaving the tolerances.", 0.7),
)


@dataclasses.dataclass(frozen=True)
class StepRecord:
    """One workflow step for a task, for the Conductor's window, logs and ``aikg tune``'s summary."""

    step: str
    outcome: str
    reason: str = ""
    tokens: int = 0
    prompt_hash: str = ""
    lane: int = 0

    def line(self) -> str:
        return f"- {self.step}: {self.outcome}" + (f" ({self.reason[:300]})" if self.reason else "")


class LlmProposer(Proposer):
    name = "llm"

    def __init__(
        self,
        client: LlmClient,
        workflow: Workflow | None = None,
        docs_token_budget: int = 1500,
        examples: Callable[[KernelTask], Sequence[str]] | None = None,
        baseline_seconds: Callable[[KernelTask], float | None] | None = None,
        device_facts: Callable[[KernelTask], DeviceFacts] | None = None,
        margin: float = DEFAULT_MARGIN,
        docs_packs_dirs: Sequence[Path] = (),
    ) -> None:
        self.client = client
        self.workflow = workflow or load_workflow()
        self.designer = Designer(self.client)
        self.coder = Coder(self.client)
        self.conductor = Conductor(self.client, self.workflow)
        self.docs_token_budget = docs_token_budget
        self.docs_dirs = search_dirs(docs_packs_dirs)
        self.margin = margin
        self._examples = examples
        self._baseline_seconds = baseline_seconds
        self._device_facts = device_facts or (lambda task: facts_for(task.device_type))
        # The search may run this many conversations per task at once; the client's concurrency bounds requests.
        self.lanes = self.client.config.concurrency
        self.states: dict[tuple[str, int], TaskState] = {}
        self.records: dict[str, list[StepRecord]] = {}
        self._lane_tokens: dict[tuple[str, int], int] = {}
        self._lane_errors: dict[tuple[str, int], int] = {}
        self._docs: dict[str, str] = {}
        self._baseline: dict[str, float | None] = {}
        self._facts: dict[str, DeviceFacts] = {}
        self._failed_lanes: set[tuple[str, int]] = set()  # (task key, lane) stopped by failed calls

    # ------------------------------------------------------------------ Proposer protocol

    def propose(self, task: KernelTask, context: SearchContext, limit: int) -> list[Candidate]:
        lane = context.lane
        state = self.states.setdefault((task.key, lane), TaskState())
        if limit < 1 or state.stopped:
            return []
        self._absorb_verdict(task, state, lane, context.attempts)
        # No request outlives the search's wall-time budget, however slow the endpoint (llm_client.deadline).
        with deadline(context.deadline):
            try:
                return self._walk(task, state, lane, context)
            except LlmDeadlinePassed as err:
                log.info("aikg: task %s: llm lane %d waits for a later run: %s", task.short_key, lane, err)
                return []

    def _walk(self, task: KernelTask, state: TaskState, lane: int, context: SearchContext) -> list[Candidate]:
        """The lane's workflow, step by step, until it yields a candidate or stops."""
        while True:
            if context.deadline is not None and time.monotonic() >= context.deadline:
                # The wall budget is spent mid-way (code that failed its checks keeps the loop fixing): no new
                # step now, and the conversation stays open for a later run with budget left.
                log.info("aikg: task %s: llm lane %d waits for a later run: the wall-time budget is spent",
                         task.short_key, lane)
                return []
            budget = self.lane_budget(task, lane)
            if budget.tokens_left <= 0:
                return self._stop(task, state, lane, StepRecord(
                    "budget", "budget", f"lane {lane} spent its share of the task's token budget", lane=lane))
            decision = self.conductor.next_step(task, state, self.history(task.key, lane), budget)
            self._spent(task, lane, decision.tokens)
            if decision.step == STOP:
                return self._stop(task, state, lane, StepRecord(STOP, "stopped", decision.reason, decision.tokens,
                                                                lane=lane))
            if decision.asked_llm and decision.reason != "chosen by the LLM":
                self._note(task, StepRecord("conductor", "default", decision.reason, decision.tokens, lane=lane))
            try:
                candidate = self._run(task, state, lane, decision.step, context)
            except LlmBudgetExceeded as err:
                return self._stop(task, state, lane, StepRecord(decision.step, "budget", str(err), lane=lane))
            except LlmDeadlinePassed:
                raise
            except LlmError as err:
                # Endpoint down, timing out, rate-limited past the retries, or an empty / malformed reply: this
                # call yields nothing; a later call may try again, until the lane has failed LANE_ERRORS in a row.
                errors = self._lane_errors[(task.key, lane)] = self._lane_errors.get((task.key, lane), 0) + 1
                self._note(task, StepRecord(decision.step, "llm-error", str(err), lane=lane))
                if errors >= LANE_ERRORS:
                    state.stopped = True
                    self._failed_lanes.add((task.key, lane))
                return []
            self._lane_errors[(task.key, lane)] = 0
            if candidate is not None:
                return [candidate]

    def interrupted(self, task_key: str) -> bool:
        """A lane of the task stopped after LANE_ERRORS failed calls in a row (the endpoint died or kept failing)."""
        return any(key == task_key for key, _ in self._failed_lanes)

    def lane_exhausted(self, task_key: str, lane: int) -> bool:
        """Whether ``lane`` of the task has stopped for good (the search then stops giving it rounds)."""
        state = self.states.get((task_key, lane))
        return state is not None and state.stopped

    def lane_budget(self, task: KernelTask, lane: int) -> LaneBudget:
        """Steps and tokens ``lane`` may still spend. Each lane has its share of the task's token budget; the shares
        of lanes that stopped go to those still working."""
        total = self.client.config.task_token_budget
        left_overall = max(0, total - self.client.usage_for(task.key).tokens)
        spent = {n: self._lane_tokens.get((task.key, n), 0) for n in range(self.lanes)}
        stopped = [n for n in range(self.lanes) if self.lane_exhausted(task.key, n)]
        working = max(1, self.lanes - len(stopped))
        released = sum(max(0, total / self.lanes - spent[n]) for n in stopped)
        share = total / self.lanes + released / working
        tokens_left = int(min(left_overall, share - spent.get(lane, 0)))
        state = self.states.get((task.key, lane)) or TaskState()
        return LaneBudget(lane, max(0, self.workflow.max_steps - state.total), max(0, tokens_left))

    def history(self, task_key: str, lane: int) -> list[str]:
        """This lane's attempts, oldest first, as the Conductor sees them."""
        return [r.line() for r in self.records.get(task_key, []) if r.lane == lane]

    # ------------------------------------------------------------------ steps

    def _run(self, task: KernelTask, state: TaskState, lane: int, step: str,
             context: SearchContext) -> Candidate | None:
        spec = self.workflow.steps[step]
        if spec.agent == "designer":
            self._design(task, state, lane, step, spec.mode, context)
            return None
        return self._code(task, state, lane, step, spec.mode == "fix", context)

    def _design(self, task: KernelTask, state: TaskState, lane: int, step: str, mode: str,
                context: SearchContext) -> None:
        feedback = state.feedback  # why the last design was unusable, if it was
        if state.sketch:
            verb = "Improve this plan" if mode == "optimise" else "Propose a different plan than this one"
            parts = [f"{verb}:\n{state.sketch}"]
            if state.code:
                # The code shows whether the Coder followed the plan; the verdict what it achieved.
                parts.append(f"The code written from it:\n```\n{state.code.strip()}\n```")
            parts.append(f"What happened: {state.verdict or state.feedback or 'n/a'}")
            feedback = "\n".join(parts)
        feedback = "\n\n".join(part for part in (feedback, _lessons(context)) if part)
        strategy, temperature = self.strategy(lane)
        given = DesignInput(self.brief(task, context), self.docs_for(task), self._examples_for(task), feedback,
                            strategy, temperature)
        try:
            result = self.designer.run(given)
        except SketchRejected as err:
            state.ran(step, "rejected")
            state.feedback = f"the design was unusable: {err}"
            self._note(task, StepRecord(step, "rejected", str(err), lane=lane))
            return
        self._spent(task, lane, result.reply.tokens)
        state.ran(step, "ok")
        state.sketch, state.feedback = result.sketch.text(), ""
        self._note(task, StepRecord(step, "ok", "", result.reply.tokens, result.prompt_hash, lane))

    def _code(self, task: KernelTask, state: TaskState, lane: int, step: str, fix: bool,
              context: SearchContext) -> Candidate | None:
        _, temperature = self.strategy(lane)
        given = CodeInput(
            self.brief(task, context),
            state.sketch,
            self.docs_for(task),
            references=self._references(state, context, fix),
            previous_code=(state.code or "(the previous reply held no usable code)") if fix else "",
            feedback=state.feedback if fix else "",
            temperature=temperature,
        )
        try:
            result = self.coder.run(given)
        except CodeReplyRejected as err:
            self._spent(task, lane, err.reply.tokens)
            state.ran(step, "rejected")
            state.feedback = f"the reply was rejected before verification: {err.reason}"
            state.code, state.verdict = _code_excerpt(err.reply.text), ""
            self._note(task, StepRecord(step, "rejected", err.reason, err.reply.tokens, err.prompt_hash, lane))
            return None
        self._spent(task, lane, result.reply.tokens)
        state.ran(step, "ok")
        state.code, state.feedback, state.verdict = result.code, "", ""
        # The verifier's report on this candidate decides the next step; until it comes the state is "unverified".
        state.at, state.outcome = "verify", "unverified"
        repairs = "; ".join(result.repairs)
        self._note(task, StepRecord(step, "candidate", repairs, result.reply.tokens, result.prompt_hash, lane))
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

    def _references(self, state: TaskState, context: SearchContext, fix: bool) -> tuple[CodeReference, ...]:
        """Whole kernels for the Coder: its own last one with its verdict (unless it is the one being fixed), the
        search's parent and one inspiration, each with the verifier's timings."""
        refs: list[CodeReference] = []
        shown: set[str] = set()
        if state.code and state.verdict and not fix:
            refs.append(CodeReference("Your last kernel in this line of work", state.code, state.verdict))
            shown.add(state.code.strip())
        picks = [("The best kernel the search has so far (improve on it)", context.parent)]
        picks += [("Another correct kernel (for ideas)", a) for a in context.inspirations[:1]]
        for title, attempt in picks:
            if attempt is None or attempt.candidate.source.strip() in shown:
                continue
            refs.append(CodeReference(title, attempt.candidate.source, _verdict(attempt)))
            shown.add(attempt.candidate.source.strip())
        return tuple(refs)

    def strategy(self, lane: int) -> tuple[str, float]:
        """The lane's focus and sampling temperature (the configured one raised by the lane's offset, at most 1)."""
        focus, offset = LANE_STRATEGIES[lane % len(LANE_STRATEGIES)]
        return focus, min(1.0, self.client.config.temperature + offset)

    def _stop(self, task: KernelTask, state: TaskState, lane: int, record: StepRecord) -> list[Candidate]:
        state.stopped = True
        self._note(task, record)
        return []

    def _spent(self, task: KernelTask, lane: int, tokens: int) -> None:
        self._lane_tokens[(task.key, lane)] = self._lane_tokens.get((task.key, lane), 0) + tokens

    # ------------------------------------------------------------------ context

    def _absorb_verdict(self, task: KernelTask, state: TaskState, lane: int, history: Sequence[Attempt]) -> None:
        """Turn the verifier's report on our last candidate (if the history has it) into the workflow's outcome."""
        if state.at != "verify" or state.outcome != "unverified":
            return
        attempt = next((a for a in history if a.candidate.source.strip() == state.code.strip()), None)
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
        state.verdict = state.feedback = _verdict(attempt)
        self._note(task, StepRecord("verify", state.outcome, report.reason, lane=lane))

    def brief(self, task: KernelTask, context: SearchContext) -> TaskBrief:
        if task.key not in self._facts:
            self._facts[task.key] = self._device_facts(task)
        return TaskBrief(task, self._facts[task.key], self._baseline_for(task, context.attempts), self.margin)

    def docs_for(self, task: KernelTask) -> str:
        """The trimmed doc pack the agents see for ``task`` (cached per task)."""
        if task.key not in self._docs:
            pack = pack_for(task.dsl, self.docs_dirs)
            if pack is None:
                log.warning("aikg: no doc pack for %s; the agents work from the baseline alone", task.dsl)
            self._docs[task.key] = pack.context(task, self.docs_token_budget) if pack else ""
        return self._docs[task.key]

    def _examples_for(self, task: KernelTask) -> Sequence[str]:
        return tuple(self._examples(task)) if self._examples else ()

    def _baseline_for(self, task: KernelTask, history: Sequence[Attempt]) -> float | None:
        """The verifier's measured time of Inductor's kernel: from the reports so far, else measured once."""
        measured = [t for a in history for t in getattr(a.report, "baseline_s", [])]
        if measured:
            return statistics.median(measured)
        if task.key not in self._baseline:
            self._baseline[task.key] = self._baseline_seconds(task) if self._baseline_seconds else None
        return self._baseline[task.key]

    def _note(self, task: KernelTask, record: StepRecord) -> None:
        self.records.setdefault(task.key, []).append(record)
        level = logging.INFO if record.outcome in ("ok", "candidate", "accepted", "correct") else logging.WARNING
        log.log(level, "aikg: task %s: llm lane %d %s -> %s%s", task.short_key, record.lane, record.step,
                record.outcome, f": {record.reason}" if record.reason else "")

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


def _verdict(attempt: Attempt) -> str:
    """The verifier's report on ``attempt`` for the agents: verdict, trials, errors, timings, speedup."""
    report = attempt.report
    return _without_command_line(report.summary())[:FEEDBACK_CHARS]


def _code_excerpt(reply: str) -> str:
    return reply.strip()[:FEEDBACK_CHARS] or "(empty reply)"
