"""The LLM proposer against a REAL model: llama.cpp's OpenAI-compatible server with Gemma 3 270M (start it with
``tests/llm_server.sh start`` and set AIKG_LLM_BASE_URL to the URL it prints).

A 270M base model writes junk kernels; what is tested is the machinery around it: prompts go out on the
completions endpoint, replies are parsed, junk is rejected (by the Coder's checks or by the verifier, with the
reason), the transcript is recorded, and replaying it reproduces the run without the server.
"""

import os
import urllib.request

import pytest
import torch

from aikg_inductor import capture
from aikg_inductor.agents import LlmClient, LlmConfig
from aikg_inductor.dsl import adapter_for
from aikg_inductor.search.proposers import Attempt, SearchContext
from aikg_inductor.search.proposers.llm import LlmProposer
from aikg_inductor.verify import verify_candidate

pytestmark = pytest.mark.llm

BASE_URL = os.environ.get("AIKG_LLM_BASE_URL", "http://127.0.0.1:8765/v1")


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/models", timeout=3) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server():
    if not _reachable(BASE_URL):
        pytest.skip(f"no LLM server answers at {BASE_URL} (start one with tests/llm_server.sh start)")
    return BASE_URL


def config(tmp_path, mode):
    # The base model has no chat template: completions only. Short replies keep the CPU run to about a minute.
    return LlmConfig.from_dict({
        "base_url": BASE_URL, "model": os.environ.get("AIKG_LLM_MODEL", ""), "endpoint": "completions",
        "max_tokens": 200, "temperature": 0.0, "timeout_s": 120, "transcript_dir": str(tmp_path / "transcript"),
        "transcript_mode": mode,
    })


def run_proposer(proposer, task, calls, verify):
    history, candidates = [], []
    for _ in range(calls):
        for candidate in proposer.propose(task, SearchContext.of(history), 1):
            candidates.append(candidate)
            if verify:
                history.insert(0, Attempt(candidate, verify_candidate(task, candidate.source, seed=0)))
    return candidates, history


def test_llm_proposer_with_a_real_model_records_and_replays(server, tmp_path, aikg_logs):
    torch.compiler.reset()
    session, _ = capture(lambda x, y: torch.relu(x + y), [torch.randn(64, 128), torch.randn(64, 128)], {"mode": "off"})
    (task,) = session.tasks.values()

    live = LlmProposer(LlmClient(config(tmp_path, "record")), docs_token_budget=600)
    if not live.client.config.model:
        live.client.ping()  # the model the server serves, so the replay below asks for the same one
    candidates, history = run_proposer(live, task, calls=3, verify=True)

    records = live.client.store.records()
    assert records, "no request reached the server"
    agents = {r["meta"]["agent"] for r in records}
    assert {"designer", "coder"} <= agents, agents
    first = next(r for r in records if r["meta"]["agent"] == "designer")
    assert first["request"]["endpoint"] == "completions" and task.source.splitlines()[1] in first["request"]["prompt"]
    assert all(r["reply"]["text"] for r in records) and live.client.run_usage.tokens > 0

    steps = live.records[task.key]
    assert steps, "the workflow took no step"
    # Every reply ended somewhere accountable: parsed into a candidate, or rejected with a reason.
    for step in steps:
        assert step.outcome in ("ok", "candidate", "rejected", "llm-error", "budget", "stopped", "accepted",
                                "correct", "failed"), step
        if step.outcome in ("rejected", "failed", "llm-error"):
            assert step.reason
    for candidate in candidates:  # junk that got through the Coder's checks still has the baseline's signature
        signature = adapter_for(task.dsl).parse_signature
        assert signature(candidate.source) == signature(task.source)
    for attempt in history:  # and is judged by the verifier, whose reason is logged
        assert attempt.report.reason
    summary = live.summary(task.key)
    print("real LLM run:", {k: v for k, v in summary.items() if k != "steps"})
    for step in steps:
        print(f"  {step.step:9} {step.outcome:10} {step.reason[:120]}")

    # Replay: same transcript, no server use; the same steps and candidates come out.
    replay_config = config(tmp_path, "replay")
    replay_config = LlmConfig.from_dict({"model": live.client.model()}, base=replay_config)
    again = LlmProposer(LlmClient(replay_config), docs_token_budget=600)
    if history:
        replayed, _ = _replay_with(again, task, history)
    else:
        replayed, _ = run_proposer(again, task, calls=3, verify=False)
    assert [c.source for c in replayed] == [c.source for c in candidates]
    assert [(s.step, s.outcome) for s in again.records[task.key]] == [(s.step, s.outcome) for s in steps]
    assert again.client.run_usage.replayed == again.client.run_usage.calls > 0


def _replay_with(proposer, task, recorded_history):
    """Replay feeding back the recorded verifier reports in the order they were made, so the Conductor sees the
    same history as live. (Keyed by source, a model that wrote the same kernel twice would get one report for both,
    and a report's text, such as a compile error's temporary path, is part of the next prompt.)"""
    recorded = list(reversed(recorded_history))  # the history is newest first
    history, candidates = [], []
    for _ in range(3):
        for candidate in proposer.propose(task, SearchContext.of(history), 1):
            candidates.append(candidate)
            attempt = recorded[len(history)]
            assert candidate.source == attempt.candidate.source
            history.insert(0, Attempt(candidate, attempt.report))
    return candidates, history
