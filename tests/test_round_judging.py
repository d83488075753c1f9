"""How a round of candidates is judged: a fault of the harness on one candidate never ends the round.

TEST DOUBLES for the screen and the verifier (scripted verdicts keyed by candidate), since what is checked here is
which candidates the pipeline sends to verification, not the verifier itself (tests/test_verify_* do that).
"""

from pathlib import Path

import pytest

from aikg_inductor import KernelCache, KernelTask, resolve_options
from aikg_inductor.pipeline import HARNESS_RULES, VERIFY_PER_ROUND, TuneContext, tune_task
from aikg_inductor.search.history import SearchHistory
from aikg_inductor.search.proposers import Candidate, Proposer
from aikg_inductor.verify import ScreenResult, VerificationReport

FIXTURES = Path(__file__).parent / "fixtures" / "triton_tasks"


class ScriptedProposer(Proposer):
    """TEST DOUBLE: offers the given sources once, in one round."""

    name = "scripted"

    def __init__(self, sources):
        self.sources = list(sources)

    def propose(self, task, context, limit):
        batch, self.sources = self.sources[:limit], self.sources[limit:]
        return [Candidate(s, self.name) for s in batch]


@pytest.fixture
def task():
    return KernelTask.load(next(FIXTURES.glob("*.json")))


def scripted_judges(task, screen_speedups, harness_faults):
    """TEST DOUBLES: the screen estimates ``screen_speedups[source]``; verification ends in ``harness_faults[source]``
    (a rule) for those sources, and as accepted at the screened speed for the rest. Records what was verified."""
    verified = []

    def screen(task_, sources, **_):
        return [ScreenResult(screen_speedups[s]) for s in sources]

    def verify(task_, source, **_):
        verified.append(source)
        rule = harness_faults.get(source)
        return VerificationReport(verdict="rejected" if rule else "accepted", rule=rule,
                                  reason=f"scripted {rule}" if rule else "", task_key=task.key, dsl=task.dsl,
                                  speedup=None if rule else screen_speedups[source])

    return screen, verify, verified


@pytest.mark.parametrize("fault", sorted(HARNESS_RULES))
def test_a_harness_fault_sends_the_next_ranked_candidates_to_verification(task, tmp_path, fault):
    sources = [f"# candidate {i}\n{task.source}" for i in range(6)]
    speedups = dict(zip(sources, (1.1, 1.5, 1.4, 0.9, 1.3, 1.2)))  # ranked: 1, 2, 4, 5, 0; 3 is below 1
    faults = {sources[1]: fault, sources[2]: fault}
    screen, verify, verified = scripted_judges(task, speedups, faults)
    options = resolve_options({"cache_dir": str(tmp_path), "kernel_budget_s": 60, "target_roofline": None},
                              environ={})
    context = TuneContext.local(options, KernelCache(tmp_path), verify=verify, screen=screen)
    outcome = tune_task(task, context, proposers=[ScriptedProposer(sources)])

    # The two best faulted; the next two by the screen were verified in their place, and no more.
    assert verified[:2] == [sources[1], sources[2]]
    assert sorted(verified[2:]) == sorted([sources[4], sources[5]])
    assert len(verified) == 2 + VERIFY_PER_ROUND
    rules = {a.candidate.source: a.report.rule for a in outcome.attempts}
    assert rules[sources[1]] == rules[sources[2]] == fault
    assert rules[sources[4]] is None and rules[sources[5]] is None
    assert rules[sources[0]] == "screened-out" and rules[sources[3]] == "screened-out"
    assert outcome.entry is not None and outcome.entry.verification.speedup == pytest.approx(1.3)
    # Every candidate of the round is in the history the search writes, with the verdict it got.
    history = SearchHistory.beside(tmp_path)
    recorded = {a.candidate.source: a.report.rule for a in history.attempts(task.key)}
    assert recorded == rules


def test_a_rejection_of_the_candidate_itself_is_not_retried(task, tmp_path):
    sources = [f"# candidate {i}\n{task.source}" for i in range(4)]
    speedups = dict(zip(sources, (1.5, 1.4, 1.3, 1.2)))
    screen, verify, verified = scripted_judges(task, speedups, {sources[0]: "mismatch"})
    options = resolve_options({"cache_dir": str(tmp_path), "kernel_budget_s": 60, "target_roofline": None},
                              environ={})
    context = TuneContext.local(options, KernelCache(tmp_path), verify=verify, screen=screen)
    tune_task(task, context, proposers=[ScriptedProposer(sources)])
    assert verified == sources[:VERIFY_PER_ROUND]  # a wrong kernel is a verdict: the round verifies no more


def test_one_compile_in_mode_tune_shares_one_run_budget(tmp_path, monkeypatch, restore_torch_configs):
    """TEST DOUBLE for tune_task (records what it is handed): every kernel of one compile, the backward graph's too,
    gets the same RunBudget, with the deadline of option run_budget_s, so a whole model's tuning stays within it."""
    import time

    import torch

    from aikg_inductor import pipeline
    from aikg_inductor.problem import load_problem
    from conftest import REPO

    budgets = []

    def recording_tune_task(task, context, **_):
        budgets.append(context.run_budget)
        return pipeline.TuneOutcome(task.key, None, (), "scripted", 0.0)

    monkeypatch.setattr(pipeline, "tune_task", recording_tune_task)
    problem = load_problem(REPO / "examples/layernorm_gelu.py")
    started = time.monotonic()
    compiled = torch.compile(problem.model, backend="aikg",
                             options={"mode": "tune", "cache_dir": str(tmp_path), "run_budget_s": 1000})
    x = problem.inputs[0].requires_grad_()
    compiled(x).sum().backward()
    assert len(budgets) >= 2, "forward and backward should have a kernel each at least"
    assert all(b is budgets[0] for b in budgets)
    assert started + 1000 <= budgets[0].deadline <= time.monotonic() + 1000
