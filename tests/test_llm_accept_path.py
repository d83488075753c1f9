"""The LLM accept path end to end: a replayed reply is verified, cached with its sketch, and used by a new process.

REPLAYED, HAND-WRITTEN FIXTURE: the Designer's reply is the sketch in tests/fixtures/llm_replay_add_relu.yaml and
the Coder's reply is examples/candidates/softmax_scale_fused.cpp (a fused softmax written by hand, not by a
model), filed in a transcript store under the exact requests the agents build; replay mode answers only from it.
"""

import subprocess
import sys

import yaml

from aikg_inductor import KernelCache, resolve_options
from aikg_inductor.backend import capture
from aikg_inductor.pipeline import TuneContext, tune_task
from aikg_inductor.problem import load_problem
from conftest import REPO, replaying_llm_proposer

PROBLEM = REPO / "examples/softmax_scale.py"
SKETCH_REPLY = yaml.safe_load((REPO / "tests/fixtures/llm_replay_add_relu.yaml").read_text())["designer"]
CODE_REPLY = "```cpp\n" + (REPO / "examples/candidates/softmax_scale_fused.cpp").read_text() + "```\n"


def test_replayed_llm_kernel_is_verified_cached_and_used_by_a_fresh_process(tmp_path, serial_pool):
    problem = load_problem(PROBLEM)
    session, _ = capture(problem.model, problem.inputs, {"mode": "off"})
    (task,) = session.tasks.values()
    proposer, sketch = replaying_llm_proposer(task, tmp_path / "transcripts", SKETCH_REPLY, CODE_REPLY)
    cache_dir = tmp_path / "cache"
    options = resolve_options({"cache_dir": str(cache_dir), "kernel_budget_candidates": 1, "kernel_budget_s": 300},
                              environ={})
    outcome = tune_task(task, TuneContext.local(options, KernelCache(cache_dir), pool=serial_pool),
                        proposers=[proposer])
    assert outcome.entry is not None, outcome.reason
    entry = KernelCache(cache_dir).get(task.key)
    assert entry.provenance.proposer == "llm" and entry.provenance.model == "fixture-model"
    assert entry.provenance.prompt_hash and entry.provenance.tokens is not None  # replayed replies report 0
    assert entry.sketch == sketch and entry.verification.speedup > 1

    code = ("import logging, torch\n"
            "from aikg_inductor.problem import load_problem\n"
            "logging.basicConfig(level=logging.INFO)\n"
            f"p = load_problem({str(PROBLEM)!r})\n"
            f"f = torch.compile(p.model, backend='aikg', options={{'mode': 'cache', 'cache_dir': {str(cache_dir)!r}}})\n"
            "torch.testing.assert_close(f(p.inputs[0]), p.model(p.inputs[0]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "replaced from the cache" in result.stderr
