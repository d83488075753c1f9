"""`aikg tune` end to end on CPU: with no LLM it says why nothing was proposed; with an LLM endpoint it reports,
per kernel, candidates, verdicts and tokens.

The endpoint here is the scripted stub of ``openai_stub`` (a TEST DOUBLE: real HTTP through the openai client,
scripted answers); the real llama.cpp server is exercised by the `llm` tier.
"""

import os
import subprocess
import sys

from conftest import REPO
from openai_stub import OpenAIStub

SKETCH = "parallel: rows over threads\ntiling: 16 lanes\nmemory: one pass\nEND"


def aikg_tune(tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIKG_", "OPENAI_"))}
    environ.update(AIKG_LLM_TRANSCRIPT_DIR=str(tmp_path / "transcripts"), **env)
    return subprocess.run([sys.executable, "-m", "aikg_inductor.cli", "tune", "examples/softmax_scale.py",
                           "--cache-dir", str(tmp_path / "cache"), "--budget-s", "120"],
                          capture_output=True, text=True, cwd=REPO, env=environ, timeout=600)


def test_tune_without_an_llm_reports_why_no_candidate(tmp_path):
    result = aikg_tune(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no candidate was offered" in result.stdout and "0 new kernel(s) accepted" in result.stdout


def test_tune_with_an_llm_reports_rejections_and_tokens_per_kernel(tmp_path):
    # Every reply after the sketch is prose without code: each is rejected before verification. One conversation
    # at a time, so the budget is met exactly (concurrent lanes may overrun it by the requests already in flight).
    with OpenAIStub([SKETCH, "I would vectorise it."]) as stub:
        result = aikg_tune(tmp_path, AIKG_LLM_BASE_URL=stub.url, AIKG_LLM_TASK_TOKEN_BUDGET="660",
                           AIKG_LLM_BACKOFF_S="0.01", AIKG_LLM_CONCURRENCY="1")
    assert result.returncode == 0, result.stderr
    assert "LLM replies rejected" in result.stdout
    assert "660" in result.stdout  # six stub replies of 110 tokens, the task's whole token budget
    assert "no code block in the reply" in result.stderr  # each rejection is logged with its reason
