"""A tuning run killed mid-way resumes where it stopped: nothing judged is lost, nothing is judged twice.

Real verifier, real C++ kernels on CPU. The proposer is a stand-in (no C++ proposer ships without an LLM): it
offers harmless variants of a real faster kernel, examples/candidates/softmax_scale_fused.cpp.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

from aikg_inductor import KernelCache
from aikg_inductor.search.history import SearchHistory
from aikg_inductor.search.proposers import Candidate, Proposer
from conftest import REPO

BUDGET = 6

DRIVER = textwrap.dedent(f"""
    import sys
    from pathlib import Path
    from aikg_inductor import tune
    from aikg_inductor.search.proposers import Candidate, Proposer

    FAST = Path({str(REPO / "examples/candidates/softmax_scale_fused.cpp")!r}).read_text()

    class Variants(Proposer):
        name = "variants"

        def propose(self, task, context, limit):
            tried = {{a.candidate.source for a in context.attempts}}
            fresh = [FAST + f"\\n// variant {{i}}\\n" for i in range(100)]
            return [Candidate(s, self.name) for s in fresh if s not in tried][:1]

    rows = tune([{str(REPO / "examples/softmax_scale.py")!r}],
                {{"cache_dir": sys.argv[1], "kernel_budget_candidates": {BUDGET}, "kernel_budget_s": 600,
                  "target_roofline": None}},
                proposers=lambda task: [Variants()])
    (row,) = rows
    print("RESULT", row.outcome.resumed, len(row.outcome.attempts), row.outcome.stopped_by)
""")


def run_driver(script, cache_dir, **kwargs):
    # One OpenMP thread per process, as the other suites' pools: on a shared 2-core machine the judge's and the
    # runner's threads of multi-threaded kernels take turns on the cores, and the faster kernel's verdict would be
    # the machine's load (README, verifier latency on CPU).
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), str(cache_dir)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kwargs)


def attempts_in(cache_dir):
    history = SearchHistory.beside(cache_dir)
    try:
        return {record.key: len(history.attempts(record.key)) for record in history.tasks()}
    finally:
        history.close()


def test_a_killed_run_resumes_and_finishes_within_its_budget(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    cache_dir = tmp_path / "cache"

    first = run_driver(script, cache_dir, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        counts = attempts_in(cache_dir) if (cache_dir / "history").exists() else {}
        if counts and max(counts.values()) >= 2:
            break
        time.sleep(0.2)
    assert first.poll() is None, f"the first run ended before it could be killed: {first.communicate()}"
    os.killpg(first.pid, signal.SIGKILL)  # the whole group: the run and its verifier workers, as a crash would
    first.wait()
    (done_before,) = attempts_in(cache_dir).values()
    assert 2 <= done_before < BUDGET

    second = run_driver(script, cache_dir)
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    resumed, judged_now, stopped_by = out.split("RESULT", 1)[1].split()
    assert int(resumed) == done_before and int(judged_now) == BUDGET - done_before
    assert stopped_by == "candidates"
    (total,) = attempts_in(cache_dir).values()
    assert total == BUDGET  # nothing judged twice, nothing lost

    history = SearchHistory.beside(cache_dir)
    (record,) = history.tasks()
    sources = [a.candidate.source for a in history.attempts(record.key)]
    assert len(set(sources)) == BUDGET
    runs = history.runs(record.key)
    assert len(runs) == 1 and runs[0].attempts == BUDGET - done_before  # the killed run never finished
    assert KernelCache(cache_dir).get(record.key) is not None  # the fused kernel is faster: accepted and kept


class SlowerCopy(Proposer):
    """Offers Inductor's own kernel with a harmless comment: correct, never faster."""

    name = "copy"

    def propose(self, task, context, limit):
        tried = {a.candidate.source for a in context.attempts}
        fresh = [task.source + f"\n// copy {i}\n" for i in range(100)]
        return [Candidate(s, self.name) for s in fresh if s not in tried][:1]


def test_a_rerun_skips_kernels_searched_to_the_end_unless_asked_to_retune(tmp_path):
    from aikg_inductor import tune

    options = {"cache_dir": str(tmp_path / "cache"), "kernel_budget_candidates": 1, "kernel_budget_s": 300,
               "target_roofline": None}
    problem = [REPO / "examples/softmax_scale.py"]
    (first,) = tune(problem, options, proposers=lambda task: [SlowerCopy()])
    assert first.outcome is not None and first.outcome.stopped_by == "candidates" and first.outcome.entry is None

    (second,) = tune(problem, options, proposers=lambda task: [SlowerCopy()])
    assert second.outcome is None and second.skipped.startswith("searched before (candidates)")

    (third,) = tune(problem, {**options, "kernel_budget_candidates": 2}, proposers=lambda task: [SlowerCopy()],
                   retune=True)
    assert third.outcome is not None and third.outcome.resumed == 1 and len(third.outcome.attempts) == 1
