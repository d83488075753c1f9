"""The LLM proposer (Designer -> Coder, steered by the Conductor) on a real captured CPU task.

The LLM is either the scripted stub server of ``openai_stub`` (a TEST DOUBLE: real HTTP, scripted answers) or
the transcript store in replay mode with a hand-written fixture. Kernels are compiled and run for real.
"""

from pathlib import Path

import pytest
import torch
import yaml

from aikg_inductor import capture
from aikg_inductor.agents import LlmClient, LlmConfig
from aikg_inductor.dsl import adapter_for
from aikg_inductor.search.proposers import Attempt, SearchContext
from aikg_inductor.search.proposers.llm import LlmProposer
from aikg_inductor.verify import standalone
from aikg_inductor.verify.report import VerificationReport
from conftest import replaying_llm_proposer
from openai_stub import OpenAIStub, closed_port

FIXTURE = Path(__file__).parent / "fixtures" / "llm_replay_add_relu.yaml"
SKETCH = "parallel: rows over threads\ntiling: 16 lanes\nmemory: one pass\nEND"


@pytest.fixture(scope="module")
def task():
    torch.compiler.reset()
    session, _ = capture(lambda x, y: torch.relu(x + y), [torch.randn(64, 128), torch.randn(64, 128)], {"mode": "off"})
    torch.compiler.reset()
    (only,) = session.tasks.values()
    return only


def good_code(task):
    return yaml.safe_load(FIXTURE.read_text())["coder"]


def proposer_for(url, tmp_path, **overrides):
    config = LlmConfig.from_dict({"base_url": url, "model": "stub-model", "transcript_dir": str(tmp_path / "tr"),
                                  "backoff_s": 0.01, **overrides})
    return LlmProposer(LlmClient(config, sleep=lambda s: None))


def outcomes(proposer, task):
    return [(r.step, r.outcome) for r in proposer.records[task.key]]


def test_junk_replies_are_rejected_with_reasons_and_the_budget_holds(task, tmp_path, aikg_logs):
    wrong_signature = good_code(task).replace(
        "const float* in_ptr1, float* out_ptr0", "float* out_ptr0, const float* in_ptr1"
    )
    # design, code (prose), conductor, fix (wrong signature), conductor (junk, so asked again: fix), fix (empty
    # reply); then the next call: conductor ("design"), and the design step finds the budget spent.
    script = [SKETCH, "I would vectorise it.", "fix", wrong_signature, "no idea", "fix", "   ", "design"]
    with OpenAIStub(script) as stub:
        # One lane: it has the task's whole budget, eight stub replies of 110 tokens.
        proposer = proposer_for(stub.url, tmp_path, task_token_budget=880, concurrency=1)
        assert proposer.propose(task, SearchContext(), 1) == []
        assert outcomes(proposer, task) == [("design", "ok"), ("code", "rejected"), ("fix", "rejected"),
                                            ("fix", "llm-error")]
        reasons = [r.reason for r in proposer.records[task.key]]
        assert reasons[1] == "no code block in the reply"
        assert reasons[2].startswith("signature differs from the baseline")
        assert "empty reply" in reasons[3]
        assert "no code block in the reply" in aikg_logs.text and "signature differs" in aikg_logs.text
        # The fix prompt carried the Coder's own rejection reason back.
        assert "no code block in the reply" in stub.requests[3]["messages"][1]["content"]
        # The Conductor's junk answer was not mapped to a step: it was asked again, shown its reply.
        reask = stub.requests[5]["messages"]
        assert reask[2] == {"role": "assistant", "content": "no idea"} and "names none of the allowed" in reask[3]["content"]
        assert proposer.propose(task, SearchContext(), 1) == []  # the conductor takes the last 110 tokens
        assert proposer.records[task.key][-1].outcome == "budget"
        sent = len(stub.requests)
        assert proposer.propose(task, SearchContext(), 1) == [] and len(stub.requests) == sent  # stopped: nothing more is sent
    assert proposer.summary(task.key)["tokens"] == 880


def test_endpoint_down_yields_no_candidate(task, tmp_path):
    proposer = proposer_for(f"http://127.0.0.1:{closed_port()}/v1", tmp_path, max_retries=0)
    assert proposer.propose(task, SearchContext(), 1) == []
    (record,) = proposer.records[task.key]
    assert record.outcome == "llm-error" and "connection failed" in record.reason


def test_candidate_notes_and_verifier_report_drive_the_fix(task, tmp_path):
    code = good_code(task)
    with OpenAIStub([SKETCH, code, "fix", code.replace("Vec(0.f)", "Vec(0.0f)")]) as stub:
        proposer = proposer_for(stub.url, tmp_path, concurrency=1)
        (first,) = proposer.propose(task, SearchContext(), 1)
        assert first.proposer == "llm" and first.notes["step"] == "code"
        signature = adapter_for(task.dsl).parse_signature
        assert signature(first.source) == signature(task.source)
        assert first.notes["sketch"].startswith("SKETCH v1") and first.notes["model"] == "stub-model"
        assert len(first.notes["prompt_hash"]) == 64 and first.notes["tokens"] == 110
        assert "kernel renamed kernel -> Placeholder.KERNEL_NAME" in first.notes["repairs"]
        report = VerificationReport(verdict="rejected", rule="mismatch", reason="out_ptr0 differs at (0, 3)",
                                    task_key=task.key, dsl=task.dsl)
        (second,) = proposer.propose(task, SearchContext.of([Attempt(first, report)]), 1)
    assert second.notes["step"] == "fix"
    conductor_prompt = stub.requests[2]["messages"][1]["content"]
    assert "Allowed next steps:\n- fix: " in conductor_prompt and "- optimise:" not in conductor_prompt
    assert "one of fix, design, stop" in conductor_prompt and "out_ptr0 differs" in conductor_prompt
    fix_prompt = stub.requests[3]["messages"][1]["content"]
    assert "out_ptr0 differs at (0, 3)" in fix_prompt and first.source.strip() in fix_prompt
    assert outcomes(proposer, task)[-2:] == [("verify", "failed"), ("fix", "candidate")]


def test_replayed_fixture_yields_a_correct_candidate(task, tmp_path):
    """REPLAYED, HAND-WRITTEN FIXTURE: the replies come from tests/fixtures/llm_replay_add_relu.yaml, filed under
    the requests the agents build for this task; no server runs (replay mode answers only from the store)."""
    replies = yaml.safe_load(FIXTURE.read_text())
    proposer, sketch = replaying_llm_proposer(task, tmp_path / "tr", replies["designer"], replies["coder"])

    (candidate,) = proposer.propose(task, SearchContext(), 1)
    assert candidate.notes["model"] == "fixture-model" and candidate.notes["sketch"] == sketch
    signature = adapter_for(task.dsl).parse_signature
    assert signature(candidate.source) == signature(task.source)
    expected = standalone.run(task, seed=3)
    got = standalone.run(task, candidate.source, seed=3)
    torch.testing.assert_close(got, expected)


def test_no_step_is_taken_once_the_wall_budget_is_spent_and_a_later_run_carries_on(task, tmp_path):
    import time

    with OpenAIStub([SKETCH, good_code(task)]) as stub:
        proposer = proposer_for(stub.url, tmp_path, concurrency=1)
        spent = SearchContext(deadline=time.monotonic() - 1.0)
        assert proposer.propose(task, spent, 1) == [] and stub.requests == []
        (candidate,) = proposer.propose(task, SearchContext(deadline=time.monotonic() + 60.0), 1)
        assert len(stub.requests) == 2 and "out_ptr0" in candidate.source
