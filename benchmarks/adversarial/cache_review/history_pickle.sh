#!/usr/bin/env bash
# The search history (<cache>/history, a diskcache folder) is opened with diskcache's default Disk, which unpickles
# values and keys. Someone with write access to the cache folder plants a pickle; the next `aikg tune` runs it.
# Expected: the pickle is refused (as the kernel store refuses it) and no canary file appears.
set -u
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
export PYTHONPATH=$REPO OMP_NUM_THREADS=1
D=$(mktemp -d /tmp/r20-hist-XXXX)/cache
aikg tune "$REPO/examples/softmax_scale.py" --cache-dir "$D" --budget-s 5 --budget-candidates 1 >/dev/null 2>&1
python - "$D" <<'PY'
import os, pickle, sqlite3, sys
d = sys.argv[1]
class Boom:
    def __reduce__(self):
        return (os.system, (f"touch {d}/PWNED_BY_HISTORY",))
db = sqlite3.connect(f"{d}/history/cache.db")
keys = [k for (k,) in db.execute("SELECT key FROM Cache") if isinstance(k, str) and k.startswith("task/")]
print("history task keys:", [k[:17] for k in keys])
for k in keys:
    victim = "runs/" + k[len("task/"):]
    db.execute("DELETE FROM Cache WHERE key = ?", (victim,))
    db.execute("INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size, mode,"
               " filename, value) VALUES (?, 1, 0, NULL, 0, 0, NULL, 0, 4, NULL, ?)", (victim, pickle.dumps(Boom())))
db.commit()
PY
aikg tune "$REPO/examples/softmax_scale.py" --cache-dir "$D" --budget-s 5 --budget-candidates 1 > "$D/../tune.out" 2>&1
echo "aikg tune rc=$?"; tail -5 "$D/../tune.out"
if [ -e "$D/PWNED_BY_HISTORY" ]; then echo "FAIL: the planted pickle ran (canary $D/PWNED_BY_HISTORY exists)"; else echo "PASS: no canary"; fi
