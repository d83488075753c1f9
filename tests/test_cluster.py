"""`aikg tune --cluster ray` on a local Ray cluster started here: two CPU worker actors, the CPU (C++) path.

No C++ proposer ships and the default suite has no LLM, so the kernels get a scripted proposer (``Scripted``, a
TEST DOUBLE for the search's proposers): a slowed copy of a kernel (correct, never faster: "not-faster") and, for the
softmax kernel, the hand-written fused kernel of examples/candidates, which verifies faster. The verdicts are the real
verifier's.
"""

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import BODY_START, REPO

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.ray

from aikg_inductor import KernelCache, resolve_options, tune  # noqa: E402
from aikg_inductor.search.history import SearchHistory  # noqa: E402
from aikg_inductor.search.proposers import Candidate, Proposer  # noqa: E402

FAST = (REPO / "examples/candidates/softmax_scale_fused.cpp").read_text()
PROBLEMS = [REPO / "examples/softmax_scale.py", REPO / "examples/layernorm_gelu.py"]
SPIN = "    for (volatile int spin = 0; spin < 200000; ++spin) {}\n"  # ~0.5 ms: far slower than either kernel


def slowed(source: str) -> str:
    """The same kernel with a busy loop at its start (past the statements that must open it): correct, and clearly
    slower than Inductor's."""
    start = BODY_START + "\n" if BODY_START in source else ")\n{\n"
    assert start in source, "the kernel's opening changed shape"
    return source.replace(start, start + SPIN, 1)


class OneAtATime(Proposer):
    """Offers its sources one per round, skipping those already tried (earlier runs, a lost worker's). With
    ``crash_marker``: the first process to be asked for a second round dies there (SIGKILL), after the first
    candidate was judged and sent to the driver; the marker file makes it happen once."""

    name = "scripted"

    def __init__(self, sources, crash_marker=None):
        self.sources, self.crash_marker = list(sources), crash_marker

    def propose(self, task, context, limit):
        tried = {a.candidate.source for a in context.attempts}
        if tried and self.crash_marker is not None and not os.path.exists(self.crash_marker):
            Path(self.crash_marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        left = [s for s in self.sources if s not in tried]
        return [Candidate(left[0], self.name, {"round": len(tried)})] if left else []


@dataclasses.dataclass(frozen=True)
class Scripted:
    """The proposer factory (it pickles: Ray sends it to every worker)."""

    crash_marker: str | None = None

    def __call__(self, task):
        if "softmax" in task.name:
            return [OneAtATime([slowed(FAST), FAST], self.crash_marker)]
        return [OneAtATime([slowed(task.source)])]


class Recorder:
    """A TuneProgress that keeps what it was told."""

    def __init__(self):
        self.found, self.started, self.judged, self.finished = 0, [], [], []

    def kernels_found(self, total):
        self.found = total

    def kernel_started(self, task, budget):
        self.started.append(task.key)

    def attempt_judged(self, task, attempt):
        self.judged.append((task.key, attempt.report.rule))

    def kernel_finished(self, row):
        self.finished.append(row.task.key)


@pytest.fixture(scope="module")
def local_cluster():
    # Two CPU slots: two worker actors. The test module is importable in them (the proposer factory lives here).
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING",
             runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).parent), "OMP_NUM_THREADS": "1"}})
    yield
    ray.shutdown()


def options_for(cache_dir):
    return resolve_options({"cache_dir": str(cache_dir), "kernel_budget_s": 300, "kernel_budget_candidates": 4,
                            "target_roofline": None}, environ={})


def accepted(cache_dir):
    cache = KernelCache(cache_dir)
    return {key: cache.get(key).source for key in cache.keys()}


def test_a_cluster_run_accepts_what_a_local_run_accepts_and_survives_a_killed_worker(
        local_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the local run's verifier, like the workers': one thread a kernel
    local = tune(PROBLEMS, options_for(tmp_path / "local"), proposers=Scripted())

    progress = Recorder()
    marker = tmp_path / "crashed"
    rows = tune(PROBLEMS, options_for(tmp_path / "ray"), progress=progress, proposers=Scripted(str(marker)),
                cluster="ray")

    assert marker.exists()  # a worker died in the middle of the softmax kernel
    assert accepted(tmp_path / "ray") == accepted(tmp_path / "local") != {}
    assert [r.task.key for r in rows] == [r.task.key for r in local]
    by_key = {r.task.key: r for r in rows}
    (softmax,) = [r for r in rows if "softmax" in r.task.name]
    # The resubmitted kernel resumed from the attempt the lost worker had judged, and finished the search.
    assert softmax.outcome is not None and softmax.outcome.resumed == 1
    assert [a.report.rule for a in softmax.outcome.attempts] == [None]
    history = SearchHistory.beside(tmp_path / "ray")
    assert [a.report.rule for a in history.attempts(softmax.task.key)] == ["not-faster", None]
    for key, row in by_key.items():
        assert row.outcome is not None, row.skipped
        assert [a.report.rule for a in history.attempts(key)][-1] == (
            None if key == softmax.task.key else "not-faster")
    # The progress display was told as for a local run: every kernel started and finished once, every attempt.
    assert progress.found == 2 and sorted(progress.started) == sorted(progress.finished) == sorted(by_key)
    assert Counter(progress.judged) == Counter((k, a.report.rule) for k in by_key for a in history.attempts(k))
    # The cache is intact: every entry's signature and schema check out.
    assert KernelCache(tmp_path / "ray").verify_all() == []


def test_llm_slots_limit_requests_across_processes(local_cluster):
    from aikg_inductor.ray_tuning import ClusterSlot, LlmSlots

    slots = ray.remote(LlmSlots).options(num_cpus=0).remote(1, 60.0)

    @ray.remote(num_cpus=0)
    def request(slots):
        import time

        with ClusterSlot(slots):
            time.sleep(0.5)
        return time.monotonic()

    ray.get([request.remote(slots) for _ in range(3)])
    assert ray.get(slots.held.remote())[1] == 1  # three requests from three processes, never two at once
    deadline = time.monotonic() + 10
    while ray.get(slots.held.remote())[0] and time.monotonic() < deadline:  # releases are not waited for
        time.sleep(0.1)
    assert ray.get(slots.held.remote())[0] == 0

    lapsing = ray.remote(LlmSlots).options(num_cpus=0).remote(1, 0.5)
    ray.get(lapsing.acquire.remote())  # a holder that dies without releasing
    ray.get(lapsing.acquire.remote(), timeout=10)  # the lease lapsed: the slot came back


def test_aikg_tune_cluster_ray_prints_the_same_table_as_a_local_run(local_cluster, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIKG_", "OPENAI_"))}
    result = subprocess.run([sys.executable, "-m", "aikg_inductor.cli", "tune", "examples/softmax_scale.py",
                             "--cache-dir", str(tmp_path / "cache"), "--cluster", "ray"],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    # No proposer handles C++ kernels without an LLM: the same row a local run prints, from a cluster worker.
    assert "no candidate offered" in result.stdout and "0 new kernel(s) accepted" in result.stdout
    assert SearchHistory.beside(tmp_path / "cache").runs(next(iter(
        r.key for r in SearchHistory.beside(tmp_path / "cache").tasks())))  # the run is in the driver's history
