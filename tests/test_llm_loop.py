"""The agent loop as a capable model would drive it: what the prompts carry, lanes that stay apart and end one by one,
the Coder shown whole kernels with their verdicts, the per-lane token share, replies cut at the token limit,
transcripts one file per call, the cache-aware roofline.

The LLM is the scripted stub server of ``openai_stub`` (a TEST DOUBLE: real HTTP, scripted answers) or the
transcript store in replay mode with HAND-WRITTEN replies. Where a search runs, its judge is a TEST DOUBLE too (a
made-up report per source), so the lane logic is checked exactly and fast; the real verifier is exercised in
test_llm_accept_path and test_llm_fixtures.
"""

import re
from pathlib import Path

import pytest
import torch
import yaml

from aikg_inductor import KernelCache, capture
from aikg_inductor.agents import LlmClient, LlmConfig
from aikg_inductor.agents.contract import CONTRACT_PATH, contract_for, sections
from aikg_inductor.agents.device_facts import DeviceFacts, facts_for, roofline_applies
from aikg_inductor.options import resolve_options
from aikg_inductor.search.evolve import Budget, PopulationSearch
from aikg_inductor.search.proposers import Attempt, Candidate, SearchContext
from aikg_inductor.search.proposers.llm import LlmProposer
from aikg_inductor.verify import correctness
from aikg_inductor.verify.report import VerificationReport
from conftest import REPO, replaying_llm_proposer
from openai_stub import OpenAIStub

FIXTURE = Path(__file__).parent / "fixtures" / "llm_replay_add_relu.yaml"
SKETCH = "parallel: rows over threads\ntiling: 16 lanes\nmemory: one pass\nEND"


@pytest.fixture(scope="module")
def task():
    torch.compiler.reset()
    session, _ = capture(lambda x, y: torch.relu(x + y), [torch.randn(64, 128), torch.randn(64, 128)], {"mode": "off"})
    torch.compiler.reset()
    (only,) = session.tasks.values()
    return only


def good_code():
    return yaml.safe_load(FIXTURE.read_text())["coder"]


def proposer_for(url, tmp_path, **overrides):
    config = LlmConfig.from_dict({"base_url": url, "model": "stub-model", "transcript_dir": str(tmp_path / "tr"),
                                  "backoff_s": 0.01, **overrides})
    return LlmProposer(LlmClient(config, sleep=lambda s: None), docs_token_budget=1)


def report_for(task, verdict="accepted", rule=None, speedup=1.5):
    return VerificationReport(verdict=verdict, rule=rule, reason="judged by a test double", task_key=task.key,
                              dsl=task.dsl, speedup=speedup, baseline_s=[3e-6, 3e-6],
                              candidate_s=[3e-6 / speedup] * 2, timing_noise=[0.01, 0.01])


# ---------------------------------------------------------------------------------------------- what prompts carry


def test_prompts_carry_the_contract_verbatim_the_device_and_the_baseline_time_at_any_doc_budget(task, tmp_path):
    with OpenAIStub([SKETCH, good_code()]) as stub:
        proposer = proposer_for(stub.url, tmp_path, concurrency=1)
        history = SearchContext.of([Attempt(Candidate("other source", "tuner"), report_for(task, "rejected",
                                                                                        "not-faster", 1.0))])
        (candidate,) = proposer.propose(task, history, 1)
    contract = contract_for(task.dsl)
    for request in stub.requests:  # the Designer's and the Coder's
        prompt = request["messages"][1]["content"]
        assert contract in prompt  # verbatim, from docs/kernel_contract.md, though the doc pack got 1 token
        assert "## Triton candidates" not in prompt  # only this DSL's rules
        assert "threads a kernel runs with (OpenMP):" in prompt and "L2 cache:" in prompt
        assert "Baseline time: 3.0 us per launch" in prompt and "by more than 3%" in prompt
        assert task.source.strip() in prompt
        # Chat prompts never end on an open fence; the answer's form is asked for in words.
        assert not prompt.rstrip().endswith("```") and not prompt.rstrip().endswith("```cpp")


def test_the_contract_file_states_the_tolerances_and_trial_kinds_the_verifier_uses():
    text = CONTRACT_PATH.read_text()
    for dtype, (atol, rtol) in correctness.TOLERANCES.items():
        row = re.search(rf"^\| {dtype}\s*\| ([^|]+)\| ([^|]+)\|", text, re.MULTILINE)
        assert row, f"{dtype} missing from the contract's tolerance table"
        assert (float(row.group(1)), float(row.group(2))) == (atol, rtol), dtype
    checks = sections()["What the verifier checks"]
    for kind in set(correctness.TRIAL_KINDS):
        assert f"`{kind}`" in checks
    assert CONTRACT_PATH.resolve() == (REPO / "docs/kernel_contract.md").resolve()


def test_device_facts_and_the_cache_aware_roofline():
    facts = facts_for("cpu", threads=3, bandwidth=20e9)
    text = facts.describe()
    assert "threads a kernel runs with (OpenMP): 3" in text and "20.0 GB/s" in text
    assert facts.isa and facts.cache_bytes("L2")  # read from /proc/cpuinfo and sysfs on this Linux machine
    cpu = DeviceFacts("cpu", threads=2, caches=(("L1d", 48 << 10), ("L2", 2 << 20), ("L3", 32 << 20)))
    # Timed hot, a working set inside L3 runs from cache: no DRAM roofline applies (a kernel once scored 3.09).
    assert not roofline_applies(64 * 512 * 4 * 2, cpu) and roofline_applies(256 << 20, cpu)
    assert roofline_applies(1 << 10, DeviceFacts("cuda", caches=(("L2", 50 << 20),)))  # GPU timing flushes L2


# ---------------------------------------------------------------------------------------------------------- lanes


def test_lanes_differ_in_focus_and_temperature(task, tmp_path):
    proposer, _ = replaying_llm_proposer(task, tmp_path / "tr", SKETCH, "```cpp\n" + good_code() + "```")
    designs = [r for r in proposer.client.store.records() if "Write a Unified Sketch" in r["request"]["messages"][1][1]]
    assert len(designs) == 4
    assert len({r["request"]["temperature"] for r in designs}) == 4
    assert len({r["request"]["messages"][1][1] for r in designs}) == 4  # each lane's focus is in its prompt


def test_identical_replies_in_every_lane_do_not_end_the_search_until_every_lane_has(task, tmp_path, aikg_logs):
    """REPLAYED, HAND-WRITTEN FIXTURE: every lane's first design and code get the same replies, so three of four
    candidates are duplicates; no later request is recorded, so each lane then meets LLM errors and stops."""
    proposer, _ = replaying_llm_proposer(task, tmp_path / "tr", SKETCH, "```cpp\n" + good_code() + "```")
    judged = []

    def judge(batch):  # TEST DOUBLE: correct but not faster
        judged.extend(batch)
        return [Attempt(c, report_for(task, "rejected", "not-faster", 1.0)) for c in batch]

    result = PopulationSearch(task, [proposer], judge, Budget(wall_s=120, candidates=16)).run()
    assert len(judged) == 1 and result.stopped_by == "exhausted"
    by_lane = {lane: [(r.step, r.outcome) for r in proposer.records[task.key] if r.lane == lane] for lane in range(4)}
    for lane, steps in by_lane.items():
        # Every lane produced its candidate (three were duplicates), learnt the verdict, and ended on its own.
        assert ("code", "candidate") in steps and ("verify", "correct") in steps, (lane, steps)
        assert steps[-1] == ("optimise", "llm-error"), (lane, steps)


def test_a_lane_that_spent_its_token_share_stops_while_the_others_work(task, tmp_path):
    with OpenAIStub([SKETCH, good_code(), SKETCH, good_code()]) as stub:
        # Two lanes of 220 tokens each: a design and a code reply of 110 tokens.
        proposer = proposer_for(stub.url, tmp_path, concurrency=2, task_token_budget=440)
        assert len(proposer.propose(task, SearchContext(lane=0), 1)) == 1
        assert proposer.lane_budget(task, 0).tokens_left == 0 and proposer.lane_budget(task, 1).tokens_left == 220
        assert proposer.propose(task, SearchContext(lane=0), 1) == []
        assert proposer.records[task.key][-1].outcome == "budget" and proposer.lane_exhausted(task.key, 0)
        sent = len(stub.requests)
        (other,) = proposer.propose(task, SearchContext(lane=1), 1)
        assert len(stub.requests) == sent + 2 and other.notes["step"] == "code"


# ------------------------------------------------------------------------------------------- refining code


def test_the_coder_sees_its_own_code_with_timings_the_parent_and_an_inspiration(task, tmp_path):
    code = good_code()
    faster = code.replace("Vec(0.f)", "Vec(0.0f)")
    with OpenAIStub([SKETCH, code, "optimise", SKETCH, faster]) as stub:
        proposer = proposer_for(stub.url, tmp_path, concurrency=1)
        (first,) = proposer.propose(task, SearchContext(), 1)
        parent = Attempt(Candidate("// the parent's source\n" + code, "llm"), report_for(task, speedup=1.8))
        inspiration = Attempt(Candidate("// an inspiration's source\n" + code, "tuner"),
                              report_for(task, "rejected", "not-faster", 1.01))
        ours = Attempt(first, report_for(task, speedup=1.2))
        context = SearchContext((parent, ours, inspiration), parent, (inspiration,))
        (second,) = proposer.propose(task, context, 1)
    assert second.source.strip() != first.source.strip()
    design_prompt = stub.requests[3]["messages"][1]["content"]
    assert first.source.strip() in design_prompt and "speedup 1.200x" in design_prompt  # the plan's code, its result
    coder_prompt = stub.requests[4]["messages"][1]["content"]
    assert "Your last kernel in this line of work" in coder_prompt and first.source.strip() in coder_prompt
    assert "timing 1: baseline 3.00 us, candidate 2.50 us" in coder_prompt
    assert "// the parent's source" in coder_prompt and "speedup 1.800x" in coder_prompt
    assert "// an inspiration's source" in coder_prompt


# ------------------------------------------------------------------------------------------------ replies


def test_a_reply_cut_at_the_token_limit_is_asked_again_with_twice_the_budget(tmp_path):
    cut = {"id": "x", "object": "chat.completion", "created": 0, "model": "stub-model",
           "choices": [{"index": 0, "finish_reason": "length",
                        "message": {"role": "assistant", "content": None, "reasoning_content": "Let me think"}}],
           "usage": {"prompt_tokens": 50, "completion_tokens": 8192, "total_tokens": 8242}}
    with OpenAIStub([cut, "full answer"]) as stub:
        client = LlmClient(LlmConfig.from_dict({"base_url": stub.url, "model": "stub-model",
                                                "transcript_dir": str(tmp_path / "tr")}))
        reply = client.complete(client.request([("user", "q")]), "t")
    assert reply.text == "full answer"
    assert [r["max_tokens"] for r in stub.requests] == [8192, 16384]
    assert client.usage_for("t").calls == 2 and reply.tokens == 50 + 8192 + 110


def test_completions_endpoint_prefills_the_fence_and_reads_the_continuation(task, tmp_path):
    body = good_code().split("\n", 1)[1] if good_code().startswith("```") else good_code()
    with OpenAIStub([SKETCH.replace("END", ""), body]) as stub:
        proposer = proposer_for(stub.url, tmp_path, concurrency=1, endpoint="completions")
        (candidate,) = proposer.propose(task, SearchContext(), 1)
    assert stub.requests[0]["prompt"].endswith("SKETCH v1\n") and stub.requests[1]["prompt"].endswith("```cpp\n")
    assert stub.requests[1]["stop"] == ["\n```"] and "out_ptr0" in candidate.source


# ------------------------------------------------------------------------------------------------ transcripts


def test_every_call_leaves_its_own_transcript_and_replay_returns_the_nth_reply_for_the_nth_call(tmp_path):
    replies = [f"reply {i}" for i in range(8)]
    with OpenAIStub(replies) as stub:
        client = LlmClient(LlmConfig.from_dict({"base_url": stub.url, "model": "stub-model",
                                                "transcript_dir": str(tmp_path / "tr")}))
        request = client.request([("user", "the same prompt")])
        live = [client.complete(request, "t").text for _ in range(8)]
    assert live == replies and len(client.store) == 8
    replay = LlmClient(LlmConfig.from_dict({"model": "stub-model", "transcript_dir": str(tmp_path / "tr"),
                                            "transcript_mode": "replay"}))
    assert [replay.complete(request, "t").text for _ in range(8)] == replies


def test_transcripts_default_to_the_runs_cache_dir(tmp_path):
    from aikg_inductor.pipeline import proposers_for
    from aikg_inductor.search.history import ProposerStatus

    default = LlmConfig.from_options(resolve_options({"cache_dir": str(tmp_path)}, environ={}))
    assert default.transcripts == tmp_path / "llm-transcripts"
    explicit = LlmConfig.from_options(resolve_options(
        {"cache_dir": str(tmp_path), "llm": {"transcript_dir": str(tmp_path / "mine")}}, environ={}))
    assert explicit.transcripts == tmp_path / "mine"
    options = resolve_options({"cache_dir": str(tmp_path / "cache"), "llm": {"base_url": "http://127.0.0.1:9/v1",
                                                                             "model": "m"}}, environ={})
    task = _any_task()
    available = (ProposerStatus("llm", True, "taken as answering: nothing is asked of it here"),)
    (llm,) = proposers_for(task, options, None, available)
    assert llm.client.store.directory == tmp_path / "cache" / "llm-transcripts"


def _any_task():
    from aikg_inductor.task import KernelTask

    return KernelTask("k" * 64, "cpp-cpu", "cpu", "avx2", "2.13", None, "baseline", (), ())


def test_the_pipeline_measures_the_baseline_and_skips_the_roofline_stop_for_a_cache_resident_kernel(task, tmp_path):
    from aikg_inductor import pipeline

    seconds = pipeline.measured_baseline_seconds(task)  # the verifier's timing of Inductor's kernel against itself
    assert seconds is not None and 0 < seconds < 0.1
    options = resolve_options({"cache_dir": str(tmp_path), "target_roofline": 0.9}, environ={})
    # 64x128 float32 in and out (96 KiB) sits in this machine's cache: no DRAM roofline to stop at.
    assert task.bytes_moved < (facts_for("cpu").last_level_cache() or 0)
    assert pipeline._roofline(task, pipeline.TuneContext.local(options, KernelCache(tmp_path))) is None


def test_the_conductor_sees_its_own_lanes_history_and_a_stopped_lane_leaves_the_others_working(task, tmp_path):
    code = good_code()
    with OpenAIStub([SKETCH, "I would vectorise it.", "stop", SKETCH, code, "stop"]) as stub:
        proposer = proposer_for(stub.url, tmp_path, concurrency=2)
        assert proposer.propose(task, SearchContext(lane=0), 1) == []  # design, prose, the Conductor says stop
        assert proposer.lane_exhausted(task.key, 0) and not proposer.lane_exhausted(task.key, 1)
        (candidate,) = proposer.propose(task, SearchContext(lane=1), 1)
        failed = VerificationReport(verdict="rejected", rule="mismatch", reason="out_ptr0 differs at (1, 2)",
                                    task_key=task.key, dsl=task.dsl)
        assert proposer.propose(task, SearchContext((Attempt(candidate, failed),), lane=1), 1) == []
    lane0_conductor, lane1_conductor = stub.requests[2]["messages"][1]["content"], stub.requests[5]["messages"][1]["content"]
    assert "no code block in the reply" in lane0_conductor and "line 0" in lane0_conductor
    assert "line 1" in lane1_conductor and "- verify: failed" in lane1_conductor
    assert "no code block in the reply" not in lane1_conductor  # lane 0's attempts are not lane 1's history


def test_an_endpoint_that_dies_mid_search_leaves_the_kernel_open_for_a_later_run(task, tmp_path):
    """TEST DOUBLES: the stub endpoint answers one design and one code, then fails (HTTP 503) for good; the verifier
    is a double (correct, not faster). The lanes stop on their failed calls, which is no end of the search: the run
    is recorded as not searched to the end, so the next run asks the endpoint again."""
    from aikg_inductor.pipeline import TuneContext, tune_task

    def verify(task_, source, **_):
        return report_for(task_, "rejected", "not-faster", 1.0)

    cache_dir = tmp_path / "cache"
    options = resolve_options({"cache_dir": str(cache_dir), "kernel_budget_candidates": 8, "kernel_budget_s": 60},
                              environ={})
    with OpenAIStub([SKETCH, good_code(), 503]) as stub:
        proposer = proposer_for(stub.url, tmp_path, concurrency=1, max_retries=0)
        outcome = tune_task(task, TuneContext.local(options, KernelCache(cache_dir), verify=verify),
                            proposers=[proposer])
    assert len(outcome.attempts) == 1 and outcome.tokens > 0
    assert proposer.interrupted(task.key) and not outcome.searched_to_end
    assert any(r.outcome == "llm-error" for r in proposer.records[task.key])
