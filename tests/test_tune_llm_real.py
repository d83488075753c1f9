"""`aikg tune` on a folder of two examples with a REAL local LLM (llama.cpp serving Gemma 3 270M; start it with
``tests/llm_server.sh start``): the run keeps to its budget, survives being killed mid-run (the rerun skips the
kernel already searched and finishes the rest), and `aikg report` turns the history into an HTML page with plots.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from aikg_inductor.search.history import SearchHistory
from conftest import REPO
from test_llm_real import BASE_URL, _reachable

pytestmark = pytest.mark.llm

RUN_BUDGET_S = 900


def aikg(*argv, **popen):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    # One lane: the small model on CI's two cores takes ~25-60 s a call (the prompt is several thousand tokens), so
    # four lanes would queue past the kernel's budget and the run would end with nothing answered.
    environ.update(AIKG_LLM_BASE_URL=BASE_URL, AIKG_LLM_ENDPOINT="completions", AIKG_LLM_MAX_TOKENS="200",
                   AIKG_LLM_TEMPERATURE="0", AIKG_LLM_CONCURRENCY="1")
    return subprocess.Popen([sys.executable, "-m", "aikg_inductor.cli", *argv], cwd=REPO, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def finished_runs(cache_dir):
    if not (cache_dir / "history").exists():
        return 0
    history = SearchHistory.beside(cache_dir)
    try:
        return sum(len(history.runs(record.key)) for record in history.tasks())
    finally:
        history.close()


# Each kernel's search: long enough for the small model on CI's two cores to answer at least one request (its first,
# with a cold prompt cache over ~9k tokens of prompt, takes about a minute); a search nothing answered is not
# searched to the end, and the rerun would search it again.
KERNEL_BUDGET_S = 150


@pytest.mark.timeout(RUN_BUDGET_S + 600)
def test_tune_a_folder_with_a_real_llm_is_killed_resumed_and_reported(tmp_path):
    if not _reachable(BASE_URL):
        pytest.skip(f"no LLM server answers at {BASE_URL} (start one with tests/llm_server.sh start)")
    problems, cache_dir = tmp_path / "problems", tmp_path / "cache"
    problems.mkdir()
    for name in ("softmax_scale.py", "layernorm_gelu.py"):
        shutil.copy(REPO / "examples" / name, problems / name)
    command = ["tune", str(problems), "--cache-dir", str(cache_dir), "--budget-s", str(KERNEL_BUDGET_S),
               "--budget-candidates", "3", "--run-budget-s", str(RUN_BUDGET_S)]

    first = aikg(*command, start_new_session=True)
    deadline = time.monotonic() + RUN_BUDGET_S
    while first.poll() is None and finished_runs(cache_dir) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.poll() is None, f"the run ended before a kill could interrupt it: {first.communicate()}"
    os.killpg(first.pid, signal.SIGKILL)  # the run and its verifier workers, mid-way through the second kernel
    first.wait()
    assert finished_runs(cache_dir) >= 1

    started = time.monotonic()
    second = aikg(*command)
    out, err = second.communicate(timeout=RUN_BUDGET_S + 300)
    assert second.returncode == 0, err
    assert time.monotonic() - started < RUN_BUDGET_S + 120  # the run budget holds (plus capture and start-up)
    assert "searched before" in out  # the kernel the killed run finished is not searched again
    history = SearchHistory.beside(cache_dir)
    records = list(history.tasks())
    assert len(records) >= 2 and all(history.runs(r.key) and not history.interrupted(r.key) for r in records)

    report = aikg("report", "--cache-dir", str(cache_dir), "--out", str(tmp_path / "report"))
    out, err = report.communicate(timeout=300)
    assert report.returncode == 0, err
    html = (tmp_path / "report" / "report.html").read_text()
    if any(history.attempts(r.key) for r in records):  # with nothing judged the page says why instead of plots
        assert html.count("data:image/png;base64,") >= 3
    else:
        assert "nothing to plot" in html
    assert all(r.key[:12] in html for r in records)
