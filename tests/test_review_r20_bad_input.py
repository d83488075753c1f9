"""Review round 20 (bad input and the kernel cache): behaviour the review found holding, kept from regressing.
Scripts that reproduce the whole review: benchmarks/adversarial/cache_review/ (REVIEW_R20_CACHE.md)."""

from __future__ import annotations

import os
import shutil

import pytest

from aikg_inductor.kernel_cache import CacheUnavailableError, KernelCache, KernelIndex
from test_kernel_cache import fill, make_entry, make_task, run_cli


def test_an_older_manifest_put_back_refuses_the_current_entry_and_serves_no_older_one(cache_dir, tmp_path):
    cache = KernelCache(cache_dir)
    task = make_task("k00000")
    cache.put(make_entry(task, source="// v1"))
    shutil.copy(cache_dir / "manifest.json", tmp_path / "old-manifest.json")
    cache.put(make_entry(task, source="// v2"))
    assert cache.get(task.key).source == "// v2"

    shutil.copy(tmp_path / "old-manifest.json", cache_dir / "manifest.json")
    reader = KernelCache(cache_dir)
    assert reader.get(task.key) is None
    assert [(f.key, f.status) for f in reader.verify_all()] == [(task.key, "rolled-back")]


def test_an_older_signed_index_file_put_back_returns_only_the_current_entry(cache_dir, tmp_path):
    cache = KernelCache(cache_dir)
    index = KernelIndex(cache)
    task = make_task("k00000")
    index.put(make_entry(task, source="// v1"))
    shutil.copy(index.path, tmp_path / "old-index.bin")
    index.put(make_entry(task, source="// v2"))
    shutil.copy(tmp_path / "old-index.bin", index.path)

    found = KernelIndex(KernelCache(cache_dir)).similar(task, k=3)
    assert [entry.source for entry, _ in found] == ["// v2"]


def test_import_with_a_device_or_a_folder_as_bundle_or_key_is_one_line_and_changes_nothing(tmp_path, capsys):
    source_dir, target_dir, bundle = tmp_path / "a", tmp_path / "b", tmp_path / "kernels.bundle"
    fill(KernelCache(source_dir), 2)
    assert run_cli(capsys, "cache", "export", str(bundle), "--cache-dir", str(source_dir))[0] == 0
    trusted = str(source_dir / "export.key")
    assert run_cli(capsys, "cache", "import", str(bundle), "--trust", trusted, "--cache-dir", str(target_dir))[0] == 0
    before = KernelCache(target_dir).fingerprint()
    attempts = [(str(bundle), "/dev/zero", "not a key file"), (str(bundle), str(tmp_path), "Is a directory"),
                ("/dev/zero", trusted, "not an aikg kernel bundle"), (str(tmp_path), trusted, "Is a directory")]
    for bundle_path, key_path, says in attempts:
        code, _, err = run_cli(capsys, "cache", "import", bundle_path, "--trust", key_path,
                               "--cache-dir", str(target_dir))
        assert code == 2 and err.count("\n") == 1 and says in err, (bundle_path, key_path, err)
    assert KernelCache(target_dir).fingerprint() == before


def test_a_loose_secret_is_refused_not_warned_about(cache_dir, caplog):
    # Changed by the fix of F1: a secret others can read or replace could sign entries, so it serves nothing.
    task = make_task("k00000")
    KernelCache(cache_dir).put(make_entry(task, source="// v1"))
    os.chmod(cache_dir / "secret.key", 0o644)
    with pytest.raises(CacheUnavailableError, match=f"run: chmod 600 {cache_dir / 'secret.key'}"):
        KernelCache(cache_dir)
