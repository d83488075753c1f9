"""The population search's own logic: budgets, resumption, what proposers are told, how work is spread.

The judge here is a TEST DOUBLE: a lookup of a made-up speed per source, so that the search's decisions can be
checked exactly and fast. The real verifier under the search is exercised by test_pipeline and test_resume.
"""

import threading
import time

import pytest

from aikg_inductor.search.evolve import Budget, PopulationSearch, RunBudget, StopRules, source_id
from aikg_inductor.search.proposers import Attempt, Candidate, Proposer, SearchContext
from aikg_inductor.task import KernelTask
from aikg_inductor.verify import VerificationReport

TASK = KernelTask("k" * 64, "cpp-cpu", "cpu", "avx2", "2.13", None, "baseline", (), ())


def report(speedup, rule=None):
    verdict = "accepted" if rule is None else "rejected"
    return VerificationReport(verdict=verdict, rule=rule, reason=rule or "ok", task_key=TASK.key, dsl=TASK.dsl,
                              speedup=speedup, candidate_s=[1e-3 / speedup] if speedup else [])


def judge_by_table(table):
    """Judge each candidate by the speed its source names ("k1.20" -> 1.20x); below 1.03x it is not faster."""
    def judge(batch):
        attempts = []
        for candidate in batch:
            speed = table(candidate.source)
            if speed is None:
                attempts.append(Attempt(candidate, report(None, "mismatch")))
            else:
                attempts.append(Attempt(candidate, report(speed, None if speed > 1.03 else "not-faster")))
        return attempts
    return judge


class Counting(Proposer):
    """Proposes ``source{n}`` sources with speeds from ``speeds`` (cycled); remembers every context it got."""

    def __init__(self, name, speeds, lanes=1, stop_after=None):
        self.name, self.speeds, self.lanes, self.stop_after = name, speeds, lanes, stop_after
        self.contexts, self.limits, self.count = [], [], 0
        self.lock = threading.Lock()

    def propose(self, task, context, limit):
        with self.lock:
            self.contexts.append(context)
            self.limits.append(limit)
            if self.stop_after is not None and self.count >= self.stop_after:
                return []
            batch = []
            for _ in range(limit):
                speed = self.speeds[self.count % len(self.speeds)]
                batch.append(Candidate(f"{self.name}:{self.count}:{speed}", self.name))
                self.count += 1
            return batch


def speed_in(source):
    value = source.rsplit(":", 1)[1]
    return None if value == "None" else float(value)


def test_the_candidate_budget_counts_earlier_runs_and_the_search_stops_there():
    earlier = [Attempt(Candidate("old:0:1.1", "tuner"), report(1.1)) for _ in range(1)]
    proposer = Counting("tuner", [0.9, 1.2])
    result = PopulationSearch(TASK, [proposer], judge_by_table(speed_in), Budget(None, 5),
                              previous=earlier).run()
    assert len(result.attempts) == 4 and result.stopped_by == "candidates"
    assert result.best.candidate.source.endswith("1.2")


def test_sources_already_judged_are_not_judged_again():
    earlier = [Attempt(Candidate("tuner:0:1.1", "tuner"), report(1.1))]
    judged = []

    def judge(batch):
        judged.extend(c.source for c in batch)
        return judge_by_table(speed_in)(batch)

    PopulationSearch(TASK, [Counting("tuner", [1.1])], judge, Budget(None, 3), previous=earlier).run()
    assert "tuner:0:1.1" not in judged and len(judged) == 2


def test_proposers_get_a_parent_inspirations_and_failures_with_reasons():
    earlier = [Attempt(Candidate(f"e:{i}:{s}", "tuner"), report(s, None if s and s > 1.03 else "not-faster"))
               for i, s in enumerate([1.5, 1.2, 1.0, 0.8, 0.6])]
    earlier.append(Attempt(Candidate("e:bad:None", "llm"), report(None, "mismatch")))
    proposer = Counting("tuner", [1.0])
    PopulationSearch(TASK, [proposer], judge_by_table(speed_in), Budget(None, 7), previous=earlier).run()
    context: SearchContext = proposer.contexts[0]
    assert context.parent is not None and context.parent.correct
    assert context.parent.candidate.source == "e:0:1.5"  # no children yet: rank decides
    assert 1 <= len(context.inspirations) <= 3 and context.parent not in context.inspirations
    assert [a.report.rule for a in context.failures] == ["mismatch"]
    assert len(context.attempts) == 6 and context.attempts[0].candidate.source == "e:0:1.5"


def test_the_parent_rotates_to_attempts_with_fewer_children():
    earlier = [Attempt(Candidate(f"e:{i}:{s}", "tuner"), report(s)) for i, s in enumerate([1.5, 1.45])]
    proposer = Counting("tuner", [0.5])
    search = PopulationSearch(TASK, [proposer], judge_by_table(speed_in), Budget(None, 2 + 6), previous=earlier,
                              round_size=1)
    search.run()
    parents = [c.parent.candidate.source for c in proposer.contexts if c.parent is not None]
    assert parents[0] == "e:0:1.5"  # no children yet: the best ranked first
    assert "e:1:1.45" in parents  # exploration: the second best gets children too


def test_a_proposer_that_improves_gets_larger_rounds_than_one_that_does_not():
    climbing = Counting("climber", [1.1 + 0.01 * i for i in range(200)])
    flat = Counting("flat", [0.5])
    PopulationSearch(TASK, [climbing, flat], judge_by_table(speed_in), Budget(None, 80)).run()
    # How far apart the totals end up depends on how the two lanes' rounds interleave (50/30 when they strictly
    # alternate, 54/26 typically); that the improving one gets more, and larger rounds, does not.
    assert climbing.count > flat.count
    assert sum(flat.limits[2:]) / len(flat.limits[2:]) < sum(climbing.limits[2:]) / len(climbing.limits[2:])


def test_lanes_run_rounds_at_the_same_time():
    running, peak = [0], [0]
    lock = threading.Lock()

    def slow_judge(batch):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return judge_by_table(speed_in)(batch)

    llm = Counting("llm", [1.0], lanes=3)
    started = time.monotonic()
    PopulationSearch(TASK, [llm], slow_judge, Budget(None, 6), round_size=1).run()
    assert peak[0] == 3 and time.monotonic() - started < 6 * 0.2


def test_the_search_stops_at_the_roofline_target():
    proposer = Counting("tuner", [1.2, 2.0, 1.1])
    result = PopulationSearch(TASK, [proposer], judge_by_table(speed_in), Budget(None, 30), round_size=1,
                              stops=StopRules(roofline=lambda a: 0.45 * a.report.speedup, target_roofline=0.9)).run()
    assert result.stopped_by == "roofline" and len(result.attempts) == 2


def test_token_wall_and_run_budgets_stop_the_search():
    spent = [0]

    def judge(batch):
        spent[0] += 100 * len(batch)
        return judge_by_table(speed_in)(batch)

    by_tokens = PopulationSearch(TASK, [Counting("llm", [1.0])], judge, Budget(None, 100, tokens=250),
                                 stops=StopRules(tokens_spent=lambda: spent[0]), round_size=1).run()
    assert by_tokens.stopped_by == "tokens" and len(by_tokens.attempts) == 3

    slow = lambda batch: (time.sleep(0.3), judge_by_table(speed_in)(batch))[1]  # noqa: E731
    by_wall = PopulationSearch(TASK, [Counting("t", [1.0])], slow, Budget(0.5, 100), round_size=1).run()
    assert by_wall.stopped_by == "wall time" and 1 <= len(by_wall.attempts) <= 3

    run = RunBudget(candidates=3)
    first = PopulationSearch(TASK, [Counting("t", [1.0])], judge_by_table(speed_in), Budget(None, 100),
                             stops=StopRules(run), round_size=1).run()
    assert first.stopped_by == "run candidates" and len(first.attempts) == 3 and run.exhausted()


def test_a_failing_proposer_stops_alone():
    class Broken(Proposer):
        name = "broken"

        def propose(self, task, context, limit):
            raise RuntimeError("bug in a proposer")

    good = Counting("good", [1.1])
    result = PopulationSearch(TASK, [Broken(), good], judge_by_table(speed_in), Budget(None, 4)).run()
    assert len(result.attempts) == 4 and all(a.candidate.proposer == "good" for a in result.attempts)


def test_candidates_carry_their_lane_and_parent():
    earlier = [Attempt(Candidate("e:0:1.5", "tuner"), report(1.5))]
    result = PopulationSearch(TASK, [Counting("tuner", [1.0])], judge_by_table(speed_in), Budget(None, 3),
                              previous=earlier).run()
    assert all(a.candidate.notes["parent"] == source_id("e:0:1.5") for a in result.attempts)
    assert all(a.candidate.notes["lane"] == 0 for a in result.attempts)


def test_keyboard_interrupt_stops_the_search_at_once():
    def judge(batch):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        # The judge runs in a worker thread; the interrupt must surface in the caller, as Ctrl-C would.
        PopulationSearch(TASK, [Counting("t", [1.0])], judge, Budget(None, 4)).run()


def test_proposers_starting_together_split_the_budget_rather_than_the_first_taking_it_all():
    retrieval, tuner = Counting("retrieval", [1.0], stop_after=1), Counting("tuner", [1.0])
    PopulationSearch(TASK, [retrieval, tuner], judge_by_table(speed_in), Budget(None, 10)).run()
    assert retrieval.limits[0] == 5 and tuner.limits[0] == 5


def test_proposers_are_told_when_the_kernel_or_the_run_wall_budget_ends():
    kernel_only = Counting("tuner", [1.1])
    before = time.monotonic()
    PopulationSearch(TASK, [kernel_only], judge_by_table(speed_in), Budget(30.0, 2), round_size=1).run()
    assert all(before + 30.0 <= c.deadline <= time.monotonic() + 30.0 for c in kernel_only.contexts)

    run = RunBudget(wall_s=5.0)
    both = Counting("tuner", [1.1])
    PopulationSearch(TASK, [both], judge_by_table(speed_in), Budget(30.0, 2), round_size=1, stops=StopRules(run)).run()
    assert all(c.deadline == run.deadline for c in both.contexts)  # the run's ends first

    unbounded = Counting("tuner", [1.1])
    PopulationSearch(TASK, [unbounded], judge_by_table(speed_in), Budget(None, 2), round_size=1).run()
    assert all(c.deadline is None for c in unbounded.contexts)
