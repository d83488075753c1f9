"""The FAISS index file and the `aikg cache` views on a tampered cache. Usage: python index_and_cli_views.py

Index: a cache with v2 stored and indexed; the index file is then replaced by junk, truncated, by an older signed
copy (indexed when v1 was the entry), or by a copy whose key list names a key the store refused. Expected: a
warning or a silent rebuild, and retrieval (KernelIndex.similar) returns v2 only, never v1.
Views: `aikg cache ls|show|stats|verify` on a cache with one rolled-back, one tampered and one good entry.
Expected: one line per problem in verify (exit 1), no traceback anywhere, the good entry still listed.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from common import entry, env, put_row, row, the_task

from aikg_inductor import KernelCache
from aikg_inductor.kernel_cache import KernelIndex

logging.basicConfig(level=logging.WARNING, format="    log: %(message)s")
TASK = the_task()


def index_case(name: str, damage) -> None:
    base = Path(tempfile.mkdtemp(prefix="r20-idx-"))
    d = base / "cache"
    cache = KernelCache(d)
    index = KernelIndex(cache)
    index.put(entry(TASK, "3.0"))
    shutil.copy(index.path, base / "old-index.bin")
    index.put(entry(TASK, "2.0"))
    index.refresh()
    damage(d, index.path, base)
    fresh = KernelIndex(KernelCache(d))
    try:
        hits = fresh.similar(TASK, k=3)
        got = ["v1" if "3.0f" in e.source else "v2" for e, _ in hits]
        print(f"index {name}: similar() -> {got}")
    except Exception as err:  # noqa: BLE001 - report, do not hide
        print(f"index {name}: similar() RAISED {type(err).__name__}: {err}")


def aikg(*args: str) -> None:
    proc = subprocess.run(["aikg", *args], capture_output=True, text=True, env=env(), timeout=300)
    out = (proc.stdout + proc.stderr).strip()
    print(f"aikg {args[0]} {args[1]}: rc={proc.returncode} traceback={'Traceback' in out}")
    for line in out.splitlines()[-6:]:
        print("    " + line[:200])


if __name__ == "__main__":
    index_case("junk", lambda d, p, b: p.write_bytes(b"junk"))
    index_case("truncated", lambda d, p, b: p.write_bytes(p.read_bytes()[:200]))
    index_case("older signed copy", lambda d, p, b: shutil.copy(b / "old-index.bin", p))
    index_case("deleted", lambda d, p, b: p.unlink())
    index_case("row rewritten unchanged (control)",
               lambda d, p, b: put_row(d, TASK.key, row(d, TASK.key)))  # control: untouched row

    base = Path(tempfile.mkdtemp(prefix="r20-views-"))
    d = base / "cache"
    cache = KernelCache(d)
    cache.put(entry(TASK, "3.0"))
    v1 = row(d, TASK.key)
    cache.put(entry(TASK, "2.0"))
    put_row(d, TASK.key, v1)  # rolled back
    bad = dataclasses.replace(entry(TASK, "2.0"), key="b" * 64)
    good = dataclasses.replace(entry(TASK, "2.0"), key="c" * 64)
    cache.put(bad)
    cache.put(good)
    value, mode, filename = row(d, bad.key)
    put_row(d, bad.key, (bytes(value).replace(b"2.0f", b"9.0f"), mode, filename))  # tampered
    for action in (["cache", "ls"], ["cache", "show", "ccc"], ["cache", "show", TASK.key[:8]], ["cache", "stats"],
                   ["cache", "verify"]):
        aikg(*action, "--cache-dir", str(d))
