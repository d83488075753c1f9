"""`aikg report`: markdown, a self-contained HTML page and PNG plots from the search history and the cache.

The history here is built from real records (SearchHistory, Attempt, VerificationReport): two kernels, one tuned in
two runs with accepted and rejected candidates, one never accepted with an interrupted second run. The last test
runs a real `aikg tune` first (CPU, no LLM: nothing is offered) and reports on what it left.
"""

import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from conftest import REPO

from aikg_inductor.cli import main
from aikg_inductor.search_report import collect, write_report
from aikg_inductor.search.history import SearchHistory, TaskRun
from aikg_inductor.search.proposers import Attempt, Candidate
from aikg_inductor.verify.report import VerificationReport

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
KEY_A, KEY_B = "a" * 64, "b" * 64


def _task(key, name):
    # SearchHistory.begin reads only these fields of a KernelTask (TaskRecord.of).
    return SimpleNamespace(key=key, name=name, dsl="cpp-cpu", device_type="cpu",
                           origins=("aten.amax.default", "aten.exp.default"))


def _attempt(key, rule, speedup=None, proposer="tuner", tokens=None):
    notes = {"tokens": tokens, "task_tokens": tokens} if tokens else {"config": {"XBLOCK": 64}}
    report = VerificationReport(verdict="accepted" if rule is None else "rejected", rule=rule,
                                reason=f"reason for {rule or 'accepting'}", task_key=key, dsl="cpp-cpu",
                                device="Test CPU", speedup=speedup, margin=0.03, elapsed_s=0.5)
    return Attempt(Candidate("void kernel() {}", proposer, notes), report)


def _run(history, key, name, attempts, tokens=0, finish=True, reason=""):
    task = _task(key, name)
    started = time.time()
    run = history.begin(task)
    for attempt in attempts:
        history.record(key, attempt, run)
    if finish:
        best = max((a.report.speedup for a in history.attempts(key) if a.report.accepted), default=None)
        history.finish(key, TaskRun(started, time.time() - started, len(attempts), best, "candidates", reason,
                                    tokens))


@pytest.fixture
def tuned_cache(tmp_path):
    cache_dir = tmp_path / "cache"
    history = SearchHistory.beside(cache_dir)
    _run(history, KEY_A, "fused_softmax", [
        _attempt(KEY_A, "mismatch", proposer="llm", tokens=300),
        _attempt(KEY_A, "not-faster", 0.95),
        _attempt(KEY_A, None, 1.10),
    ], tokens=300, reason="accepted a tuner candidate, 1.100x faster")
    _run(history, KEY_A, "fused_softmax", [
        _attempt(KEY_A, "not-faster", 1.02),
        _attempt(KEY_A, None, 1.25, proposer="llm", tokens=500),
    ], tokens=500, reason="accepted a llm candidate, 1.250x faster")
    _run(history, KEY_B, "fused_layernorm", [
        _attempt(KEY_B, "guard:torch-call"),
        _attempt(KEY_B, "compile-error"),
        _attempt(KEY_B, "screened-out", 1.4),
    ], reason="none of 3 candidate(s) was accepted; Inductor's kernel kept")
    # A second run on B killed mid-run: its attempt is logged, its run never finished. Runs are told apart by
    # time: a real rerun starts a new process, well after the report's clock slack.
    time.sleep(0.3)
    _run(history, KEY_B, "fused_layernorm", [_attempt(KEY_B, "not-faster", 0.9, proposer="llm", tokens=70)],
         finish=False)
    history.close()
    return cache_dir


def _cells(line):
    return [cell.strip() for cell in line.strip("|").split(" | ")] if line.startswith("| ") else []


def _md_row(markdown, key):
    return _cells(next(line for line in markdown.splitlines() if line.startswith(f"| {key[:12]} ")))


def test_report_tables_summary_and_embedded_plots(tuned_cache, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", "--cache-dir", str(tuned_cache), "--out", str(out), "--title", "nightly"]) == 0
    assert "2 kernel(s), 1 accepted" in capsys.readouterr().out

    markdown = (out / "report.md").read_text()
    assert markdown.startswith("# nightly")
    # key, kernel, dsl, device, candidates, runs, verdicts, best speedup, time, tokens
    a = _md_row(markdown, KEY_A)
    assert a[1].startswith("fused_softmax (amax, exp)") and a[3] == "Test CPU"
    assert a[4] == "5 (tuner 3, llm 2)" and a[5] == "2"
    assert a[6] == "2 accepted, 2 not-faster, 1 mismatch"
    assert a[7] == "1.250x (llm)" and a[9] == "800"
    b = _md_row(markdown, KEY_B)
    assert b[4] == "4 (tuner 3, llm 1)" and b[5] == "2 (1 interrupted)"
    assert b[7].startswith("Inductor kept:") and "best correct candidate 0.900x" in b[7]
    assert b[9] == "70"  # the interrupted run's tokens, as its LLM candidate noted them
    # geomean over accepted: 1.25; over all, 1.0 for the kept kernel: sqrt(1.25)
    assert "geomean speedup 1.250x over accepted kernels, 1.118x over all" in markdown
    assert "9 candidate(s) judged, 870 LLM tokens" in markdown
    assert "| " + KEY_B[:12] + " | guard:torch-call | 1 | reason for guard:torch-call |" in markdown

    page = (out / "report.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 4
    assert f"data-key='{KEY_A}'" in page and f"data-key='{KEY_B}'" in page
    assert "1.250x (llm)" in page and "Inductor kept" in page
    assert not re.search(r"(src|href)=['\"](?!data:)", page)  # nothing outside the file
    for name in ("speedup", "spending", "verdicts", "search_curve"):
        png = (out / f"{name}.png").read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 5000
        assert f"]({name}.png)" in markdown


def test_search_curve_data_keeps_the_order_and_runs_of_attempts(tuned_cache):
    from aikg_inductor.search_report import _best_so_far, _run_boundaries

    rows = {row.key: row for row in collect(tuned_cache)}
    xs, best = _best_so_far(rows[KEY_A].attempts)
    assert xs == [2, 3, 4, 5] and best == [0.95, 1.10, 1.10, 1.25]
    assert _run_boundaries(rows[KEY_A].attempts) == [3]
    assert _best_so_far(rows[KEY_B].attempts) == ([4], [0.9])  # screened-out estimates are not verified times


def test_a_cache_with_nothing_tuned_gives_a_report_that_says_so(tmp_path, capsys):
    cache_dir = tmp_path / "empty"
    cache_dir.mkdir()
    assert main(["report", "--cache-dir", str(cache_dir), "--out", str(tmp_path / "r")]) == 0
    assert "nothing was tuned" in capsys.readouterr().out
    assert "Nothing was tuned with this cache yet" in (tmp_path / "r" / "report.md").read_text()
    assert "Nothing was tuned" in (tmp_path / "r" / "report.html").read_text()
    assert not (cache_dir / "history").exists()  # reading created nothing in the cache


def test_a_missing_cache_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["report", "--cache-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aikg: error: no kernel cache at") and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_accepted_kernels_known_only_to_the_cache_are_listed(tmp_path):
    from aikg_inductor.kernel_cache import KernelCache
    from aikg_inductor.task import KernelTask
    from cache_entries import accepted_entry

    task = KernelTask(key="c" * 64, dsl="cpp-cpu", device_type="cpu", arch="x86", torch_version="2.13.0",
                      triton_version=None, source="void kernel() {}", args=(), origins=("aten.add.Tensor",))
    cache = KernelCache(tmp_path / "cache")
    cache.put(accepted_entry(task, "void kernel() {}", speedup=1.5, proposer="import"))
    cache.close()
    paths = write_report(tmp_path / "cache", tmp_path / "r")
    row = _md_row(paths.markdown.read_text(), "c" * 64)
    assert row[1] == "add" and row[6] == "in the cache only (no search history here)" and row[7] == "1.500x"
    assert paths.summary.accepted == 1


def test_report_after_a_real_tune_without_an_llm(tmp_path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIKG_", "OPENAI_"))}
    cache_dir, out = tmp_path / "cache", tmp_path / "report"
    (out / "speedup.png").parent.mkdir()
    (out / "speedup.png").write_bytes(b"an earlier report's plot")  # must not survive: it would contradict this one

    def aikg(*args):
        result = subprocess.run([sys.executable, "-m", "aikg_inductor.cli", *args], capture_output=True, text=True,
                                cwd=REPO, env=environ, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout

    aikg("tune", "examples/softmax_scale.py", "--cache-dir", str(cache_dir), "--budget-s", "30")
    stdout = aikg("report", "--cache-dir", str(cache_dir), "--out", str(out))
    assert "1 kernel(s), none accepted" in stdout
    markdown = (out / "report.md").read_text()
    [row] = [cells for cells in map(_cells, markdown.splitlines()) if cells and len(cells[0]) == 12]
    assert row[2] == "cpp-cpu" and row[4] == "0" and row[5] == "1"
    assert row[7].startswith("Inductor kept: no candidate was offered")
    # Why, in the report itself: which proposers could not work and what each needs (issue 16, item 3) ...
    assert "llm: needs an LLM endpoint: set AIKG_LLM_BASE_URL" in row[7]
    assert row[10] == ("available: retrieval; not available: tuner (Triton (CUDA) kernels only), llm (needs an LLM "
                       "endpoint: set AIKG_LLM_BASE_URL or OPENAI_BASE_URL)")
    # ... and no plots of nothing: the page says why there are none.
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," not in page and "Inductor kept" in page
    assert "No candidate was judged on any kernel" in page and not list(out.glob("*.png"))
