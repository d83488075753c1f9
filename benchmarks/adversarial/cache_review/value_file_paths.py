"""diskcache keeps a value's file name in the row (column ``filename``) and joins it onto the store folder; it
removes that file when the key is overwritten or deleted. Someone with write access to the cache folder points the
row of a cached kernel at a file OUTSIDE the cache (here a canary beside it; it could be any file the user of aikg
may delete), then the user runs `aikg cache prune` (which removes refused entries), `aikg cache rm KEY`, or a
tune that replaces the entry. Expected: aikg never touches a file outside its cache folder.
Usage: python value_file_paths.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from common import entry, env, put_row, row, the_task

from aikg_inductor import KernelCache

TASK = the_task()


def setup(tag: str) -> tuple[Path, Path]:
    base = Path(tempfile.mkdtemp(prefix=f"r20-vf-{tag}-"))
    cache_dir, canary = base / "cache", base / "precious.txt"
    canary.write_text("a file the attacker wants gone\n")
    cache = KernelCache(cache_dir)
    cache.put(entry(TASK, "2.0"))
    cache.close()
    value, mode, filename = row(cache_dir, TASK.key)
    put_row(cache_dir, TASK.key, (None, 2, str(canary)))  # MODE_BINARY: the value lives in the named file
    return cache_dir, canary


def aikg(*args: str) -> str:
    proc = subprocess.run(["aikg", *args], capture_output=True, text=True, env=env(), timeout=300)
    return f"rc={proc.returncode} {(proc.stdout + proc.stderr).strip().splitlines()[-1:]}"


if __name__ == "__main__":
    d, canary = setup("verify")
    print("cache verify:", aikg("cache", "verify", "--cache-dir", str(d)), "| canary kept:", canary.exists())
    d, canary = setup("prune")
    print("cache prune:", aikg("cache", "prune", "--max-size", "1G", "--cache-dir", str(d)),
          "| canary kept:", canary.exists())
    d, canary = setup("rm")
    print("cache rm:", aikg("cache", "rm", TASK.key[:12], "--cache-dir", str(d)), "| canary kept:", canary.exists())
    d, canary = setup("put")
    KernelCache(d).put(entry(TASK, "2.0"))  # what a tune or an import does when it stores a kernel for the key
    print("put over the key:", "| canary kept:", canary.exists())
