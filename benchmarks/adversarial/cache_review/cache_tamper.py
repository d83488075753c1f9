"""Tamper with a kernel cache as someone with write access to the folder (not the secret) could, then let a user
compile through it in a fresh process. Usage: python cache_tamper.py [SCENARIO ...] (default: all).

Every scenario starts from the same cache: v1 (x * 3) stored, then replaced by v2 (x * 2); copies of the v1-era
row, manifest and database are kept as an attacker's "older copy". Expected for every tampering: the output is
x * 2, the user sees one aikg line about the entry (no traceback), and v1 is never served.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from common import entry, put_row, row, summary, the_task, user_compile

from aikg_inductor import KernelCache

TASK = the_task()


def fresh() -> tuple[Path, Path]:
    """(cache folder, folder of the attacker's v1-era copies)."""
    base = Path(tempfile.mkdtemp(prefix="r20-"))
    cache_dir, old = base / "cache", base / "old"
    cache = KernelCache(cache_dir)
    cache.put(entry(TASK, "3.0"))
    old.mkdir()
    (old / "row.json").write_text(json.dumps([row(cache_dir, TASK.key)[0].hex(), *row(cache_dir, TASK.key)[1:]]))
    shutil.copy(cache_dir / "manifest.json", old / "manifest.json")
    shutil.copytree(cache_dir / "kernels", old / "kernels")
    cache.put(entry(TASK, "2.0"))
    cache.close()
    return cache_dir, old


def old_row(old: Path) -> tuple:
    value, mode, filename = json.loads((old / "row.json").read_text())
    return bytes.fromhex(value), mode, filename


def s_baseline(d: Path, old: Path) -> None:
    """nothing tampered: v2 is served"""


def s_row_rollback(d: Path, old: Path) -> None:
    """the v1 row (validly signed) put back under the key"""
    put_row(d, TASK.key, old_row(old))


def s_byte_flip(d: Path, old: Path) -> None:
    """one byte of the v2 record changed (3.0 for 2.0)"""
    value, mode, filename = row(d, TASK.key)
    put_row(d, TASK.key, (bytes(value).replace(b"2.0f", b"3.0f"), mode, filename))


def s_truncated_record(d: Path, old: Path) -> None:
    """the v2 record cut to half its length"""
    value, mode, filename = row(d, TASK.key)
    put_row(d, TASK.key, (bytes(value)[: len(value) // 2], mode, filename))


def s_database_rollback(d: Path, old: Path) -> None:
    """the whole v1-era kernels/ folder (cache.db) copied back over the current one"""
    shutil.rmtree(d / "kernels")
    shutil.copytree(old / "kernels", d / "kernels")


def s_manifest_deleted(d: Path, old: Path) -> None:
    """manifest.json removed"""
    (d / "manifest.json").unlink()


def s_manifest_garbage(d: Path, old: Path) -> None:
    """manifest.json overwritten with junk"""
    (d / "manifest.json").write_bytes(b"junk")


def s_manifest_only_rollback(d: Path, old: Path) -> None:
    """the v1-era manifest.json put back, v2 row kept"""
    shutil.copy(old / "manifest.json", d / "manifest.json")


def s_manifest_and_row_rollback(d: Path, old: Path) -> None:
    """the v1-era manifest.json AND the v1 row put back (secret untouched; not the whole folder)"""
    shutil.copy(old / "manifest.json", d / "manifest.json")
    put_row(d, TASK.key, old_row(old))


def s_db_and_manifest_rollback(d: Path, old: Path) -> None:
    """the v1-era kernels/ folder and manifest.json put back (secret untouched)"""
    s_database_rollback(d, old)
    shutil.copy(old / "manifest.json", d / "manifest.json")


def s_secret_replaced(d: Path, old: Path) -> None:
    """secret.key replaced by the attacker's own key (needs only write access to the folder), then a manifest and
    an x*3 record signed with it: a forged entry"""
    key = secrets.token_bytes(32)
    (d / "secret.key").unlink()
    (d / "secret.key").write_bytes(key)
    os.chmod(d / "secret.key", 0o600)
    payload = json.dumps({"entry": entry(TASK, "3.0", speedup=9.0).to_json(), "sequence": 1}, sort_keys=True).encode()
    signature = hmac.new(key, payload, hashlib.sha256).hexdigest()
    put_row(d, TASK.key, (signature.encode() + b":" + payload, 1, None))  # mode 1: MODE_RAW (inline bytes)
    body = json.dumps({"format": 1, "sequence": 1, "entries": {TASK.key: [1, signature]}},
                      separators=(",", ":")).encode()
    (d / "manifest.json").write_bytes(hmac.new(key, b"manifest:" + body, hashlib.sha256).hexdigest().encode()
                                      + b"\n" + body)


def s_secret_deleted(d: Path, old: Path) -> None:
    """secret.key removed"""
    (d / "secret.key").unlink()


def s_secret_empty(d: Path, old: Path) -> None:
    """secret.key truncated to 0 bytes"""
    (d / "secret.key").write_bytes(b"")


def s_secret_world_readable(d: Path, old: Path) -> None:
    """secret.key chmod 644 (expect a chmod warning, v2 still served)"""
    os.chmod(d / "secret.key", 0o644)


def s_db_garbage(d: Path, old: Path) -> None:
    """kernels/cache.db overwritten with random bytes"""
    (d / "kernels" / "cache.db").write_bytes(secrets.token_bytes(8192))


def s_db_truncated(d: Path, old: Path) -> None:
    """kernels/cache.db truncated to 100 bytes"""
    with open(d / "kernels" / "cache.db", "r+b") as handle:
        handle.truncate(100)


def s_pickled_value(d: Path, old: Path) -> None:
    """the record replaced by a pickle (diskcache MODE_PICKLE) whose unpickling would create a canary file"""
    import pickle

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {d}/PWNED",))

    put_row(d, TASK.key, (pickle.dumps(Boom()), 4, None))  # 4: MODE_PICKLE


def s_swap_records(d: Path, old: Path) -> None:
    """another key's validly signed, current record (an x*3 kernel) copied under this key"""
    import dataclasses

    other = dataclasses.replace(entry(TASK, "3.0"), key="c" * 64)
    cache = KernelCache(d)
    cache.put(other)
    cache.close()
    put_row(d, TASK.key, row(d, other.key))


def s_duplicate_bytes_key(d: Path, old: Path) -> None:
    """a second row for the key, as a bytes key (raw=0 pickled key) holding the v1 record"""
    import contextlib
    import pickle
    import sqlite3

    value, mode, filename = old_row(old)
    with contextlib.closing(sqlite3.connect(d / "kernels" / "cache.db")) as db, db:
        db.execute("INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size, "
                   "mode, filename, value) VALUES (?, 0, 0, NULL, 0, 0, NULL, 0, ?, ?, ?)",
                   (pickle.dumps(TASK.key), mode, filename, value))


def s_value_file_row_without_file(d: Path, old: Path) -> None:
    """the row's mode set to 2 (value in a file) with no file name: a row sqlite accepts, diskcache cannot read"""
    value, mode, filename = row(d, TASK.key)
    put_row(d, TASK.key, (value, 2, None))


def s_value_file_is_a_fifo(d: Path, old: Path) -> None:
    """the row's value file names a FIFO outside the store (nobody ever writes to it)"""
    value, mode, filename = row(d, TASK.key)
    os.mkfifo(d.parent / "fifo")
    put_row(d, TASK.key, (value, 2, str(d.parent / "fifo")))


SCENARIOS = {name[2:]: fn for name, fn in globals().items() if name.startswith("s_")}


def run(name: str) -> dict:
    d, old = fresh()
    SCENARIOS[name](d, old)
    before = sorted(p.name for p in d.iterdir())
    result = user_compile(d, timeout=90)
    result.update(scenario=name, what=SCENARIOS[name].__doc__, canary=(d / "PWNED").exists(), folder=str(d),
                  files_before=before, files_after=sorted(p.name for p in d.iterdir()))
    return result


if __name__ == "__main__":
    names = sys.argv[1:] or list(SCENARIOS)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    for name in names:
        result = run(name)
        print(f"{name}: {summary(result)} canary={result['canary']}", flush=True)
        (out / f"tamper_{name}.json").write_text(json.dumps(result, indent=1))
