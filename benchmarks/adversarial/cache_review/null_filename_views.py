"""`aikg cache verify|ls|prune` on a row whose mode says "value in a file" but names no file (a row anyone with
write access to cache.db can write). Expected: one line naming the entry as tampered, no traceback.
Usage: python null_filename_views.py"""

import subprocess
import tempfile
from pathlib import Path

from common import entry, env, put_row, row, the_task

from aikg_inductor import KernelCache

TASK = the_task()
d = Path(tempfile.mkdtemp(prefix="r20-null-")) / "cache"
KernelCache(d).put(entry(TASK, "2.0"))
value, mode, filename = row(d, TASK.key)
put_row(d, TASK.key, (value, 2, None))
for action in (["cache", "verify"], ["cache", "ls"], ["cache", "prune", "--max-size", "1G"], ["report", "--out",
                                                                                                 str(d.parent / "rep")]):
    proc = subprocess.run(["aikg", *action, "--cache-dir", str(d)], capture_output=True, text=True, env=env())
    out = (proc.stdout + proc.stderr).strip().splitlines()
    print(f"aikg {' '.join(action[:2])}: rc={proc.returncode} traceback={any('Traceback' in l for l in out)} "
          f"last: {out[-1][:160] if out else ''}")
