"""Two processes write the same cache at once (each 40 entries under its own keys, plus both alternating the shared
key between v1 and v2) while a third reads the shared key in a loop. Expected: afterwards every entry written is
there and verifies (nothing lost), and the reader only ever gets v1, v2 or nothing; we also count the reader's
"rolled back" / "tampered" refusals of entries nobody tampered with. Usage: python concurrent_writers.py
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

from common import entry, the_task

from aikg_inductor import KernelCache


def writer(cache_dir: str, tag: str, base) -> None:
    cache = KernelCache(cache_dir)
    v1, v2 = base
    for i in range(40):
        cache.put(dataclasses.replace(v2, key=f"{tag}-{i:03d}"))
        cache.put(v1 if i % 2 else v2)


def reader(cache_dir: str, key: str, seconds: float, queue) -> None:
    seen: dict[str, int] = {}
    refusals: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record):
            refusals.append(record.getMessage())

    logging.getLogger("aikg_inductor").addHandler(Catch())
    end = time.time() + seconds
    while time.time() < end:
        cache = KernelCache(cache_dir)  # a fresh process-like view each time, so each refusal is logged again
        got = cache.get(key)
        name = "none" if got is None else ("v1" if "3.0f" in got.source else "v2" if "2.0f" in got.source else "??")
        seen[name] = seen.get(name, 0) + 1
        cache.close()
    queue.put((seen, refusals))


if __name__ == "__main__":
    task = the_task()
    base = (entry(task, "3.0"), entry(task, "2.0"))
    cache_dir = str(Path(tempfile.mkdtemp(prefix="r20-conc-")) / "cache")
    KernelCache(cache_dir).put(base[1])
    queue = mp.Queue()
    procs = [mp.Process(target=writer, args=(cache_dir, tag, base)) for tag in ("a", "b")]
    read = mp.Process(target=reader, args=(cache_dir, task.key, 25.0, queue))
    for p in [read, *procs]:
        p.start()
    for p in procs:
        p.join()
    seen, refusals = queue.get()
    read.join()
    cache = KernelCache(cache_dir)
    keys = sorted(cache.keys())
    valid = [k for k in keys if cache.get(k) is not None]
    print(f"writers exit codes: {[p.exitcode for p in procs]}")
    print(f"entries: {len(keys)} stored, {len(valid)} verify (expected 81)")
    print(f"reader saw: {seen}")
    print(f"reader refusals of untampered entries: {len(refusals)}; e.g. {refusals[:2]}")
    print(f"verify findings: {cache.verify_all()}")
    sys.exit(0 if len(valid) == 81 and "??" not in seen else 1)
