"""The search history on disk: attempts read back as written, runs counted, damage skipped with a warning."""

import logging

from aikg_inductor.search.history import SearchHistory, TaskRun
from aikg_inductor.search.proposers import Attempt, Candidate
from aikg_inductor.task import KernelTask
from aikg_inductor.verify import VerificationReport

TASK = KernelTask("a" * 64, "cpp-cpu", "cpu", "avx2", "2.13", None, "src", (), ("aten.add.Tensor",), "fused_add")


def attempt(source, speedup=None, rule="mismatch"):
    report = VerificationReport(verdict="accepted" if rule is None else "rejected", rule=rule, reason="why",
                                task_key=TASK.key, dsl=TASK.dsl, speedup=speedup, baseline_s=[2e-6])
    return Attempt(Candidate(source, "llm", {"tokens": 120, "config": {"XBLOCK": 64}}), report)


def test_attempts_and_runs_read_back_in_order_across_processes(tmp_path):
    history = SearchHistory.beside(tmp_path)
    run = history.begin(TASK)
    history.record(TASK.key, attempt("one"), run)
    history.record(TASK.key, attempt("two", 1.2, None), run)
    assert history.interrupted(TASK.key)
    history.finish(TASK.key, TaskRun(0.0, 1.5, 2, 1.2, "candidates", "accepted", 240, {"llm": {"candidates": 2}}))
    assert not history.interrupted(TASK.key) and history.begin(TASK) == 1
    history.close()

    again = SearchHistory.beside(tmp_path)  # a later process
    (record,) = again.tasks()
    assert record.name == "fused_add" and record.origins == ("aten.add.Tensor",)
    logged = again.logged(TASK.key)
    assert [entry.attempt.candidate.source for entry in logged] == ["one", "two"]
    assert logged[1].attempt.report.accepted and logged[1].attempt.report.speedup == 1.2
    assert logged[0].attempt.candidate.notes == {"tokens": 120, "config": {"XBLOCK": 64}}
    (finished,) = again.runs(TASK.key)
    assert finished.best_speedup == 1.2 and finished.proposers == {"llm": {"candidates": 2}}
    assert again.interrupted(TASK.key)  # run 1 began and never finished
    again.finish(TASK.key, TaskRun(0.0, 1.0, 0, 1.2, "candidates", "resumed and done"))
    assert not again.interrupted(TASK.key) and len(again.runs(TASK.key)) == 2


def test_a_damaged_record_is_skipped_with_a_warning(tmp_path, caplog):
    history = SearchHistory.beside(tmp_path)
    run = history.begin(TASK)
    for name in ("one", "two", "three"):
        history.record(TASK.key, attempt(name), run)
    history._db.set(f"attempt/{TASK.key}/1", b"{not json")  # damage one record as a disk error might
    with caplog.at_level(logging.WARNING, logger="aikg_inductor"):
        sources = [a.candidate.source for a in history.attempts(TASK.key)]
    assert sources == ["one", "three"]
    assert "record 1" in caplog.text and "unreadable" in caplog.text
