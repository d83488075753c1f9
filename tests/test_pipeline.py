"""One task through the pipeline: candidates judged by the real verifier, the winner cached and used later."""

import subprocess
import sys

import pytest

from aikg_inductor import KernelCache, resolve_options
from aikg_inductor.pipeline import TuneContext, tune_task
from aikg_inductor.problem import load_problem
from aikg_inductor.search.proposers import Candidate, Proposer
from aikg_inductor.backend import capture
from conftest import REPO

FAST = (REPO / "examples/candidates/softmax_scale_fused.cpp").read_text()


class FixedProposer(Proposer):
    """Proposes given sources once: a stand-in for a proposer, since no C++ proposer ships (the tuner is Triton's)."""

    name = "fixed"

    def __init__(self, sources):
        self.sources = list(sources)

    def propose(self, task, history, limit):
        batch, self.sources = self.sources[:limit], self.sources[limit:]
        return [Candidate(s, self.name, {"index": i}) for i, s in enumerate(batch)]


@pytest.fixture(scope="module")
def softmax_task():
    problem = load_problem(REPO / "examples/softmax_scale.py")
    session, _ = capture(problem.model, problem.inputs, {"mode": "off"})
    (task,) = session.tasks.values()
    return task


def test_the_fastest_verified_candidate_is_cached_and_used_by_a_fresh_process(softmax_task, serial_pool, cache_dir):
    wrong = FAST.replace("vinv(1.0f /", "vinv(1.01f /")  # every output 1% too large
    options = resolve_options({"cache_dir": str(cache_dir), "kernel_budget_s": 300}, environ={})
    cache = KernelCache(cache_dir)
    before = cache.fingerprint()
    outcome = tune_task(softmax_task, TuneContext.local(options, cache, pool=serial_pool),
                        proposers=[FixedProposer([wrong, FAST])])
    rules = [a.report.rule for a in outcome.attempts]
    assert rules == ["mismatch", None], outcome.reason
    assert outcome.entry is not None and cache.get(softmax_task.key).source == FAST
    assert cache.fingerprint() != before
    # The stored record is the verifier's measurement, read back from the store, and ``aikg cache ls`` prints it.
    stored, report = cache.get(softmax_task.key).verification, outcome.attempts[-1].report
    assert stored.speedup == report.speedup > 1 and stored.baseline_s == tuple(report.baseline_s)
    listing = subprocess.run([sys.executable, "-m", "aikg_inductor.cli", "cache", "ls", "--cache-dir", str(cache_dir)],
                             check=False,
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and f"{report.speedup:.2f}x" in listing.stdout, listing.stdout + listing.stderr

    # A new process compiles the example in mode cache and runs the accepted kernel.
    code = ("import logging, torch\n"
            "from aikg_inductor.problem import load_problem\n"
            "logging.basicConfig(level=logging.INFO)\n"
            f"p = load_problem({str(REPO / 'examples/softmax_scale.py')!r})\n"
            f"f = torch.compile(p.model, backend='aikg', options={{'mode': 'cache', 'cache_dir': {str(cache_dir)!r}}})\n"
            "x = p.inputs[0]\n"
            "torch.testing.assert_close(f(x), p.model(x))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "replaced from the cache" in result.stderr


def test_nothing_accepted_keeps_inductors_kernel_and_says_why(softmax_task, serial_pool, cache_dir):
    options = resolve_options({"cache_dir": str(cache_dir)}, environ={})
    slow = FAST.replace("#pragma omp parallel for", "").replace(
        "const float* row", "for (volatile int spin = 0; spin < 20000; ++spin) {}\n        const float* row")
    outcome = tune_task(softmax_task, TuneContext.local(options, KernelCache(cache_dir), pool=serial_pool),
                        proposers=[FixedProposer([slow])])
    assert outcome.entry is None and KernelCache(cache_dir).get(softmax_task.key) is None
    assert "1 not-faster" in outcome.reason


def test_a_large_round_is_screened_and_only_the_best_verified(softmax_task, serial_pool, cache_dir):
    options = resolve_options({"cache_dir": str(cache_dir), "kernel_budget_s": 300}, environ={})
    crashing = FAST.replace("const float* row", "*(volatile int*)nullptr = 1;\n        const float* row")
    sources = [softmax_task.source, crashing, FAST, "not C++ at all"]
    outcome = tune_task(softmax_task, TuneContext.local(options, KernelCache(cache_dir), pool=serial_pool),
                        proposers=[FixedProposer(sources)])
    rules = {a.candidate.notes["index"]: a.report.rule for a in outcome.attempts}
    assert rules[1] == "screen-failed" and rules[3] == "screen-failed"
    assert rules[2] is None  # the fused kernel screened fastest and was verified and accepted
    assert outcome.entry is not None and outcome.entry.provenance.proposer == "fixed"


def test_no_proposer_for_cpp_kernels_is_reported(softmax_task, cache_dir, monkeypatch):
    for name in ("AIKG_LLM_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    options = resolve_options({"cache_dir": str(cache_dir)}, environ={})
    outcome = tune_task(softmax_task, TuneContext.local(options, KernelCache(cache_dir)))
    assert outcome.entry is None and outcome.candidates_tried == 0
    assert outcome.reason == "no candidate was offered for this cpp-cpu kernel (retrieval offered none; tuner: " \
        "Triton (CUDA) kernels only; llm: needs an LLM endpoint: set AIKG_LLM_BASE_URL or OPENAI_BASE_URL); " \
        "Inductor's kernel kept"
    assert not outcome.searched_to_end  # nobody could search it: a later run with an endpoint must


def test_the_kernel_budget_is_checked_per_candidate_and_unreached_ones_are_not_recorded(softmax_task, cache_dir):
    """TEST DOUBLES for the screen and the verifier (slow stand-ins), to check the budget arithmetic alone: on the
    H100 a round of slow compiles once ran far past the kernel's wall budget."""
    import time

    from aikg_inductor.search.history import SearchHistory
    from aikg_inductor.verify import ScreenResult

    def slow_screen(task, sources, **_):
        time.sleep(0.4)
        return [ScreenResult(0.5) for _ in sources]

    def never_verify(task, source, **_):
        raise AssertionError("nothing screened slower than the baseline is verified")

    options = resolve_options({"cache_dir": str(cache_dir), "kernel_budget_s": 1.0, "target_roofline": None},
                              environ={})
    started = time.monotonic()
    context = TuneContext.local(options, KernelCache(cache_dir), verify=never_verify, screen=slow_screen)
    outcome = tune_task(softmax_task, context, proposers=[FixedProposer([f"// {i}\n{FAST}" for i in range(8)])])
    assert time.monotonic() - started < 2.5
    assert 1 <= len(outcome.attempts) <= 3 and all(a.report.rule == "screened-out" for a in outcome.attempts)
    history = SearchHistory.beside(cache_dir)
    assert len(history.attempts(softmax_task.key)) == len(outcome.attempts)  # the unreached ones are not recorded
