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
    assert "no candidate offered" in result.stdout and "0 new kernel(s) accepted" in result.stdout


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


def test_tune_against_an_endpoint_answering_junk_warns_and_keeps_inductors_kernel(tmp_path):
    # Review 20 (F8): a 200 that is not JSON crashed `aikg tune` (on GET /models) or logged a traceback per lane.
    junk = b"\x00\xffnot json at all {{{"
    with OpenAIStub([junk], models_reply=junk) as stub:
        on_models = aikg_tune(tmp_path, AIKG_LLM_BASE_URL=stub.url)
    assert on_models.returncode == 0 and "Traceback" not in on_models.stderr, on_models.stderr
    assert f"the LLM endpoint {stub.url} did not answer (unreadable reply" in on_models.stderr
    assert not stub.requests  # the probe failed: no lane asked for a completion

    with OpenAIStub([junk]) as stub:
        on_chat = aikg_tune(tmp_path, AIKG_LLM_BASE_URL=stub.url, AIKG_LLM_CONCURRENCY="1",
                            AIKG_LLM_TASK_TOKEN_BUDGET="200")
    assert on_chat.returncode == 0 and "Traceback" not in on_chat.stderr, on_chat.stderr
    assert stub.requests and f"unreadable reply from {stub.url} to chat completion" in on_chat.stderr
    assert "0 new kernel(s) accepted" in on_chat.stdout


def test_a_variable_the_command_line_overrides_does_not_fail_the_models(tmp_path):
    # Review 20 (F14): the problems were compiled with the environment's options, not the run's, so a bad
    # AIKG_KERNEL_BUDGET_S under --budget-s was reported as "softmax_scale.py: torch.compile failed: OptionsError".
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIKG_", "OPENAI_"))}
    result = subprocess.run([sys.executable, "-m", "aikg_inductor.cli", "tune", "examples/softmax_scale.py",
                             "--cache-dir", str(tmp_path / "cache"), "--budget-s", "5", "--budget-candidates", "0"],
                            capture_output=True, text=True, cwd=REPO, env={**environ, "AIKG_KERNEL_BUDGET_S": "abc"},
                            timeout=600)
    assert result.returncode == 0 and "torch.compile failed" not in result.stderr, result.stderr
    assert "aikg tune: 1 kernel(s)" in result.stdout


def _history_runs(cache_dir):
    from aikg_inductor.search.history import SearchHistory

    history = SearchHistory.beside(cache_dir)
    try:
        (task,) = history.tasks()
        return task.key, history.runs(task.key)
    finally:
        history.close()


def _closed_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once it is closed: connections are refused


def test_runs_no_proposer_could_search_leave_the_kernel_open_until_an_endpoint_answers(tmp_path):
    """Issue 16 items 2 and 3: a run with no LLM on CPU, then one with a dead endpoint, must not mark the kernel
    searched; each row says which proposers could not work and why; with an endpoint that answers, the kernel is
    searched, and only then finished."""
    wide = {"COLUMNS": "1000"}  # rows unwrapped, so a reason reads as one line
    cache_dir = tmp_path / "cache"

    alone = aikg_tune(tmp_path, **wide)
    assert alone.returncode == 0, alone.stderr
    assert "not available: tuner (Triton (CUDA) kernels only), llm (needs an LLM endpoint: set AIKG_LLM_BASE_URL" \
        in alone.stdout
    assert "see the log" not in alone.stdout
    key, runs = _history_runs(cache_dir)
    assert [run.searched_to_end for run in runs] == [False]
    assert {s.name: s.available for s in runs[0].proposer_status} == {"retrieval": True, "tuner": False, "llm": False}

    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    refused = aikg_tune(tmp_path, AIKG_LLM_BASE_URL=dead, **wide)
    assert refused.returncode == 0, refused.stderr
    assert "searched before" not in refused.stdout
    assert f"llm (endpoint {dead} did not answer: " in refused.stdout and "Connection refused" in refused.stdout
    _, runs = _history_runs(cache_dir)
    assert [run.searched_to_end for run in runs] == [False, False]
    assert runs[1].proposer_status[-1].why.startswith(f"endpoint {dead} did not answer")

    with OpenAIStub([SKETCH, "I would vectorise it."]) as stub:
        llm = dict(AIKG_LLM_BASE_URL=stub.url, AIKG_LLM_TASK_TOKEN_BUDGET="660", AIKG_LLM_BACKOFF_S="0.01",
                   AIKG_LLM_CONCURRENCY="1", **wide)
        searched = aikg_tune(tmp_path, **llm)
        assert searched.returncode == 0, searched.stderr
        assert stub.requests, "the endpoint was never asked"
        _, runs = _history_runs(cache_dir)
        assert runs[-1].tokens == 660 and runs[-1].searched_to_end
        assert "available: retrieval, llm" in searched.stdout

        asked = len(stub.requests)
        again = aikg_tune(tmp_path, **llm)
    assert again.returncode == 0, again.stderr
    assert f"searched before ({runs[-1].stopped_by}); --retune to search again" in again.stdout
    assert len(stub.requests) == asked and len(_history_runs(cache_dir)[1]) == 3


def test_one_bad_problem_file_in_a_folder_is_skipped_with_its_line_and_the_rest_is_tuned(tmp_path):
    import shutil

    folder = tmp_path / "problems"
    folder.mkdir()
    shutil.copy(REPO / "examples/softmax_scale.py", folder)
    (folder / "broken.py").write_text("def broken(:\n")
    (folder / "exits.py").write_text("import sys\nsys.exit(3)\n")  # review 20 (F9): it ended the whole run
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIKG_", "OPENAI_"))}

    def tune(target):
        return subprocess.run([sys.executable, "-m", "aikg_inductor.cli", "tune", str(target), "--cache-dir",
                               str(tmp_path / "cache"), "--budget-s", "30"],
                              capture_output=True, text=True, cwd=REPO, env=environ, timeout=600)

    mixed = tune(folder)
    assert mixed.returncode == 0, mixed.stderr
    skipped = [line for line in mixed.stderr.splitlines() if "broken.py" in line]
    assert skipped == [f"aikg: skipped {folder / 'broken.py'}: cannot be imported: SyntaxError: invalid syntax "
                       "(broken.py, line 1)"]
    assert f"aikg: skipped {folder / 'exits.py'}: cannot be imported: SystemExit: sys.exit(3) was called" \
        in mixed.stderr.splitlines()
    assert "aikg tune: 1 kernel(s)" in mixed.stdout and "softmax_scale" in mixed.stdout

    (folder / "softmax_scale.py").unlink()
    (folder / "no_model.py").write_text("x = 1\n")
    nothing = tune(folder)
    assert nothing.returncode == 2 and "Traceback" not in nothing.stderr
    assert nothing.stderr.strip().splitlines() == [
        "aikg: error: none of the 3 problem files could be used; the first: "
        f"{folder / 'broken.py'}: cannot be imported: SyntaxError: invalid syntax (broken.py, line 1)"]
