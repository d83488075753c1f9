"""A cache folder someone else can write (review 20, REVIEW_R20_CACHE.md F1-F5, F7, F11, F12): rows naming files
outside the store, FIFOs, devices or no file at all; a pickle planted in the search history; a replaced or missing
secret; an older export replayed; readers racing a writer. Each is one line and Inductor's result (or a refused
entry), never a traceback, a hang, code run, or a file outside the folder read or deleted."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import sqlite3
import time
from pathlib import Path

import pytest
import torch

from aikg_inductor.kernel_cache import CacheUnavailableError, KernelCache
from aikg_inductor.kernel_cache.safe_disk import MAX_VALUE_FILE_BYTES
from aikg_inductor.search.history import SearchHistory, TaskRun
from cache_entries import accepted_entry
from conftest import double, only_task
from test_core_swap import CPP_TIMES, N, compile_aikg
from test_kernel_cache import edit_record, fill, make_entry, make_task, put_row_back, run_cli, stored_row


def _cache_with_one_entry(cache_dir: Path) -> str:
    cache = KernelCache(cache_dir)
    (key,) = fill(cache, 1)
    cache.close()
    return key


def _precious(tmp_path: Path) -> Path:
    path = tmp_path / "precious.txt"
    path.write_text("a file outside the cache that aikg must never delete or read\n")
    return path


def _outside_names(cache_dir: Path, precious: Path) -> dict[str, str]:
    """Value-file names a row can hold that all lead to ``precious``, outside the store."""
    store = cache_dir / "kernels"
    (store / "ab" / "cd").mkdir(parents=True, exist_ok=True)
    os.symlink(precious, store / "ab" / "cd" / ("e" * 28 + ".val"))
    return {"absolute": str(precious), "dot-dot": os.path.relpath(precious, store),
            "symlink": "ab/cd/" + "e" * 28 + ".val"}


@pytest.mark.parametrize("action", ["prune", "rm", "put", "import"])
def test_a_row_naming_a_file_outside_the_store_never_deletes_it(action, tmp_path, capsys, caplog):
    precious = _precious(tmp_path)
    for how in ("absolute", "dot-dot", "symlink"):
        cache_dir = tmp_path / f"{action}-{how}"
        key = _cache_with_one_entry(cache_dir)
        name = _outside_names(cache_dir, precious)[how]
        edit_record(cache_dir, key, mode=2, filename=name, value=None)  # 2: diskcache's "value in a file"
        code, out, err = run_cli(capsys, "cache", "verify", "--cache-dir", str(cache_dir))
        assert code == 1 and "tampered" in out and "Traceback" not in err, (how, out, err)
        if action == "prune":
            code, out, err = run_cli(capsys, "cache", "prune", "--max-size", "1G", "--cache-dir", str(cache_dir))
            assert code == 0 and "removed 1 refused" in out, (how, out, err)
        elif action == "rm":
            code, out, err = run_cli(capsys, "cache", "rm", key, "--cache-dir", str(cache_dir))
            assert code == 0, (how, err)
        elif action == "put":
            KernelCache(cache_dir).put(make_entry(make_task(key)))
        else:
            source = tmp_path / f"source-{how}"
            fill(KernelCache(source), 1)
            bundle = tmp_path / f"b-{how}"
            assert run_cli(capsys, "cache", "export", str(bundle), "--cache-dir", str(source))[0] == 0
            code, out, err = run_cli(capsys, "cache", "import", str(bundle), "--trust", str(source / "export.key"),
                                     "--cache-dir", str(cache_dir))
            assert code == 0 and "1 replaced" in out, (how, out, err)
        assert precious.read_text().startswith("a file outside"), (action, how)
        assert os.path.lexists(cache_dir / "kernels" / "ab" / "cd" / ("e" * 28 + ".val"))  # the link too
    assert "a tampered row" in caplog.text or action == "put"


def test_a_fifo_a_device_an_oversized_file_or_no_file_is_tampered_at_once(cache_dir, tmp_path, capsys, caplog):
    key = _cache_with_one_entry(cache_dir)
    value, _, _ = stored_row(cache_dir, key)
    store = cache_dir / "kernels"
    (store / "aa" / "bb").mkdir(parents=True)
    fifo, big = "aa/bb/" + "1" * 28 + ".val", "aa/bb/" + "2" * 28 + ".val"
    os.mkfifo(store / fifo)
    with open(store / big, "wb") as handle:
        handle.truncate(MAX_VALUE_FILE_BYTES + 1)  # sparse: no disk used
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    cases = {"fifo": (2, fifo, None, "not a regular file"), "dev-zero": (2, "/dev/zero", None, "not one diskcache"),
             "oversized": (2, big, None, "over the cap"), "no file name": (2, None, value, "names none"),
             "unknown mode": (7, None, value, "unknown storage mode")}
    for name, (mode, filename, stored, says) in cases.items():
        edit_record(cache_dir, key, mode=mode, filename=filename, value=stored)
        start = time.monotonic()
        assert KernelCache(cache_dir).get(key) is None, name
        assert time.monotonic() - start < 5, name
        assert says in caplog.text, (name, caplog.text)
        caplog.clear()
        for argv in (["verify"], ["ls"], ["stats"], ["show", key]):
            code, out, err = run_cli(capsys, "cache", *argv, "--cache-dir", str(cache_dir))
            assert "Traceback" not in out + err and code in (0, 1, 2) and err.count("\n") <= 1, (name, argv, err)
        code, out, err = run_cli(capsys, "report", "--cache-dir", str(cache_dir), "--out", str(tmp_path / "r"))
        assert code == 0, (name, err)
    code, out, _ = run_cli(capsys, "cache", "prune", "--max-size", "1G", "--cache-dir", str(cache_dir))
    assert code == 0 and "removed 1 refused" in out
    assert (store / fifo).exists() and (store / big).exists()  # named by no row now; left, never opened


def test_a_row_without_a_value_file_falls_back_to_inductor_in_a_compile(cache_dir, aikg_logs, restore_torch_configs):
    x = torch.randn(N)
    task = only_task(double, x)
    KernelCache(cache_dir).put(accepted_entry(task, CPP_TIMES.format(n=N, factor="3.0")))
    value, _, _ = stored_row(cache_dir, task.key)
    put_row_back(cache_dir, task.key, (value, 2, None))
    torch.testing.assert_close(compile_aikg(double, cache_dir)(x), x * 2)  # Inductor's kernel
    assert "names none" in aikg_logs.text


def _planted_pickle(canary: Path) -> bytes:
    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {canary}",))

    return pickle.dumps(Boom())


def _plant(folder: Path, key: str, payload: bytes) -> None:
    with contextlib.closing(sqlite3.connect(folder / "cache.db")) as db, db:
        db.execute("DELETE FROM Cache WHERE key = ?", (key,))
        db.execute("INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size, "
                   "mode, filename, value) VALUES (?, 1, 0, NULL, 0, 0, NULL, 0, 4, NULL, ?)", (key, payload))


def test_the_search_history_never_unpickles_and_skips_what_it_cannot_read(tmp_path, caplog):
    task = make_task("h" * 64)
    history = SearchHistory.beside(tmp_path)
    run = history.begin(task)
    history.finish(task.key, TaskRun(0.0, 1.0, 0, None, "candidates", "nothing accepted", run=run))
    history.close()
    canary = tmp_path / "PWNED"
    for key in (f"runs/{task.key}", f"runs-begun/{task.key}", f"count/{task.key}", f"run/{task.key}/0",
                f"task/{task.key}"):
        _plant(tmp_path / "history", key, _planted_pickle(canary))
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    for read_only in (True, False):  # the reader (aikg report) first: the writer then adds a record
        history = SearchHistory.beside(tmp_path, read_only=read_only)
        assert history.runs(task.key) == [] and history.logged(task.key) == [] and list(history.tasks()) == []
        assert history.interrupted(task.key) is False
        if not read_only:
            assert history.begin(task) == 0  # the forged counter reads as 0; the run goes on
            history.record(task.key, accepted_attempt(task), 0)
            assert len(history.logged(task.key)) == 1
        history.close()
    assert not canary.exists()
    assert "pickled value" in caplog.text and "Traceback" not in caplog.text

    edit_history = tmp_path / "history"
    with contextlib.closing(sqlite3.connect(edit_history / "cache.db")) as db, db:
        db.execute("UPDATE Cache SET mode = 1, value = ? WHERE key = ?", (10**12, f"count/{task.key}"))
    start = time.monotonic()
    assert SearchHistory.beside(tmp_path).logged(task.key) == []  # a forged count: no endless loop
    assert time.monotonic() - start < 5


def test_the_folders_own_settings_are_not_taken(cache_dir):
    """diskcache keeps its settings in the folder's database and passes them to the value reader and to sqlite: a
    writer of the folder must not pick the reader's thresholds (nor pragmas of diskcache's) for aikg."""
    key = _cache_with_one_entry(cache_dir)
    with contextlib.closing(sqlite3.connect(cache_dir / "kernels" / "cache.db")) as db, db:
        db.execute("UPDATE Settings SET value = 1 WHERE key = 'disk_min_file_size'")
        db.execute("UPDATE Settings SET value = 'off' WHERE key = 'sqlite_journal_mode'")
    cache = KernelCache(cache_dir)
    try:
        assert cache.get(key) is not None
        assert cache._db.disk_min_file_size == 32768 and cache._db.sqlite_journal_mode == "wal"
    finally:
        cache.close()


def accepted_attempt(task):
    from aikg_inductor.search.proposers import Attempt, Candidate
    from cache_entries import accepted_report

    return Attempt(Candidate("// src", "test", {}), accepted_report(task))


def test_a_secret_others_may_replace_or_read_is_refused_with_how_to_fix(cache_dir, tmp_path, capsys):
    key = _cache_with_one_entry(cache_dir)
    secret = cache_dir / "secret.key"
    os.chmod(secret, 0o644)
    code, _, err = run_cli(capsys, "cache", "ls", "--cache-dir", str(cache_dir))
    assert code == 2 and err.count("\n") == 1 and "has mode 644" in err and f"chmod 600 {secret}" in err
    os.chmod(secret, 0o600)
    if os.geteuid() == 0:  # only root can give a file away: the attacker's own key file, as another user writes it
        os.chown(secret, 65534, 65534)
        with pytest.raises(CacheUnavailableError, match=r"owned by uid 65534, not by this user .* chown 0"):
            KernelCache(cache_dir)
        os.chown(secret, 0, 0)
    real = tmp_path / "elsewhere.key"
    os.replace(secret, real)
    os.symlink(real, secret)
    with pytest.raises(CacheUnavailableError, match="it is a symlink"):
        KernelCache(cache_dir)
    os.unlink(secret)
    os.replace(real, secret)
    assert KernelCache(cache_dir).get(key) is not None


def test_a_loose_secret_serves_nothing_and_a_compile_falls_back_to_inductor(cache_dir, aikg_logs,
                                                                           restore_torch_configs):
    x = torch.randn(N)
    task = only_task(double, x)
    KernelCache(cache_dir).put(accepted_entry(task, CPP_TIMES.format(n=N, factor="3.0")))
    os.chmod(cache_dir / "secret.key", 0o640)
    before = stored_row(cache_dir, task.key)
    torch.testing.assert_close(compile_aikg(double, cache_dir, mode="tune")(x), x * 2)
    assert "has mode 640" in aikg_logs.text and "compiling with Inductor's kernels only" in aikg_logs.text
    assert stored_row(cache_dir, task.key) == before  # nothing written either


def test_a_missing_secret_beside_entries_is_said_and_not_minted_again(cache_dir, capsys):
    _cache_with_one_entry(cache_dir)
    (cache_dir / "secret.key").unlink()
    for read_only in (None, True):
        with pytest.raises(CacheUnavailableError, match="secret.key is missing, so the entries this cache holds "
                                                        "cannot be verified and none is served"):
            KernelCache(cache_dir, read_only=read_only)
    assert not (cache_dir / "secret.key").exists()
    code, _, err = run_cli(capsys, "cache", "verify", "--cache-dir", str(cache_dir))
    assert code == 2 and "secret.key is missing" in err and err.count("\n") == 1


def test_import_skips_an_entry_older_than_the_one_held_unless_allowed(tmp_path, capsys):
    source_dir, target_dir = tmp_path / "a", tmp_path / "b"
    task = make_task("k00000")
    source = KernelCache(source_dir)
    source.put(make_entry(task, source="// v1"))
    trust = ["--trust", str(source_dir / "export.key"), "--cache-dir", str(target_dir)]
    assert run_cli(capsys, "cache", "export", str(tmp_path / "old"), "--cache-dir", str(source_dir))[0] == 0
    source.put(make_entry(task, source="// v2"))
    assert run_cli(capsys, "cache", "export", str(tmp_path / "new"), "--cache-dir", str(source_dir))[0] == 0

    assert run_cli(capsys, "cache", "import", str(tmp_path / "new"), *trust)[0] == 0
    code, out, _ = run_cli(capsys, "cache", "import", str(tmp_path / "old"), *trust)
    assert code == 0 and "0 added, 0 replaced, 0 unchanged, 1 skipped (older than the cache's" in out
    assert KernelCache(target_dir).get(task.key).source == "// v2"
    code, out, _ = run_cli(capsys, "cache", "import", str(tmp_path / "old"), *trust, "--allow-older")
    assert code == 0 and "1 replaced" in out and KernelCache(target_dir).get(task.key).source == "// v1"
    with pytest.raises(SystemExit):
        run_cli(capsys, "cache", "import", "--help")
    assert "--allow-older" in capsys.readouterr().out


def _alternate(cache_dir: str, key: str, rounds: int) -> None:
    cache = KernelCache(cache_dir)
    for i in range(rounds):
        cache.put(make_entry(make_task(key), source=f"// v{i % 2 + 1}"))


def test_a_reader_racing_a_writer_sees_no_false_rollback(cache_dir, caplog):
    key = _cache_with_one_entry(cache_dir)  # closed: no sqlite connection crosses the fork
    writer = multiprocessing.get_context("fork").Process(target=_alternate, args=(str(cache_dir), key, 400))
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    writer.start()
    reads = 0
    while writer.is_alive():
        reader = KernelCache(cache_dir)  # a fresh reader each time: each refusal would be logged again
        assert reader.get(key) is not None
        reader.close()
        reads += 1
    writer.join()
    assert writer.exitcode == 0 and reads >= 5  # the reads overlapped the writes
    assert "rolled back" not in caplog.text and "ignoring cache entry" not in caplog.text


def test_a_refused_entry_is_named_refused_with_its_reason(cache_dir, capsys, restore_torch_configs):
    x = torch.randn(N)
    task = only_task(double, x)
    cache = KernelCache(cache_dir)
    cache.put(accepted_entry(task, CPP_TIMES.format(n=N, factor="3.0")))
    old_row = stored_row(cache_dir, task.key)
    cache.put(accepted_entry(task, CPP_TIMES.format(n=N, factor="4.0")))
    put_row_back(cache_dir, task.key, old_row)
    code, _, err = run_cli(capsys, "cache", "show", task.key, "--cache-dir", str(cache_dir))
    assert code == 2 and f"entry {task.key[:12]} is refused (rolled-back: rolled back: this record" in err
    compiled = torch.compile(double, backend="aikg", options={"mode": "cache", "cache_dir": str(cache_dir),
                                                               "print_choices": True})
    with torch._inductor.config.patch(fx_graph_cache=False):  # a warm graph cache would list no kernel
        torch.testing.assert_close(compiled(x), x * 2)
    assert "Inductor's (the cache's entry is refused: rolled-back)" in capsys.readouterr().err
