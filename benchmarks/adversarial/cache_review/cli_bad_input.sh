#!/usr/bin/env bash
# Bad input to `aikg tune` and friends: each command should print one line (no traceback) and exit 2, or (in a
# folder) skip the bad file with its line. Prints: rc, number of output lines, traceback yes/no, last line.
set -u
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/../../.." && pwd)
export PYTHONPATH=$REPO OMP_NUM_THREADS=1
C=$(mktemp -d /tmp/r20-cli-XXXX)/cache
try() {
  local what=$1; shift
  local out; out=$(timeout 300 "$@" 2>&1); local rc=$?
  local n; n=$(printf '%s' "$out" | grep -c '')
  local tb=no; grep -q Traceback <<<"$out" && tb=yes
  printf '%s | rc=%s | lines=%s | traceback=%s | %s\n' "$what" "$rc" "$n" "$tb" "$(printf '%s' "$out" | grep -v '^\s*$' | tail -1 | cut -c1-220)"
}
T="aikg tune --cache-dir $C --budget-s 5 --budget-candidates 1"
for f in "$HERE"/bad_problems/*; do try "tune $(basename "$f")" $T "$f"; done
try "tune a folder: bad files + softmax_scale.py" bash -c "mkdir -p $C.mix && cp $HERE/bad_problems/*.py $REPO/examples/softmax_scale.py $C.mix/ && $T $C.mix"
try "tune a missing file" $T /nonexistent/model.py
try "tune /dev/null" $T /dev/null
try "tune --budget-s -1" aikg tune --cache-dir $C --budget-s -1 "$REPO/examples/softmax_scale.py"
try "tune --budget-s nan" aikg tune --cache-dir $C --budget-s nan "$REPO/examples/softmax_scale.py"
try "tune --budget-s inf" aikg tune --cache-dir $C --budget-s inf --budget-candidates 1 "$REPO/examples/softmax_scale.py"
try "tune --budget-candidates 0" aikg tune --cache-dir $C --budget-candidates 0 "$REPO/examples/softmax_scale.py"
try "tune --workers 0" aikg tune --cache-dir $C --workers 0 "$REPO/examples/softmax_scale.py"
try "tune --workers -3" aikg tune --cache-dir $C --workers -3 "$REPO/examples/softmax_scale.py"
try "tune --margin -5" aikg tune --cache-dir $C --margin -5 "$REPO/examples/softmax_scale.py"
try "tune --margin nan" aikg tune --cache-dir $C --margin nan "$REPO/examples/softmax_scale.py"
try "tune --dtype fp8" aikg tune --cache-dir $C --dtype fp8 "$REPO/examples/softmax_scale.py"
try "tune --dtype int32" aikg tune --cache-dir $C --dtype int32 "$REPO/examples/softmax_scale.py"
try "tune --device tpu" aikg tune --cache-dir $C --device tpu "$REPO/examples/softmax_scale.py"
try "tune --device cuda (no GPU)" aikg tune --cache-dir $C --device cuda "$REPO/examples/softmax_scale.py"
try "tune --target-roofline 7" aikg tune --cache-dir $C --target-roofline 7 "$REPO/examples/softmax_scale.py"
try "tune --cluster bogus" aikg tune --cache-dir $C --cluster bogus "$REPO/examples/softmax_scale.py"
try "tune --cache-dir /dev/null" aikg tune --cache-dir /dev/null "$REPO/examples/softmax_scale.py"
try "tune --cache-dir /proc/x (cannot create)" aikg tune --cache-dir /proc/x "$REPO/examples/softmax_scale.py"
try "AIKG_KERNEL_BUDGET_S=abc tune" env AIKG_KERNEL_BUDGET_S=abc $T "$REPO/examples/softmax_scale.py"
try "AIKG_MODE=bogus tune" env AIKG_MODE=bogus $T "$REPO/examples/softmax_scale.py"
try "AIKG_VERIFY_WORKERS=-1 tune" env AIKG_VERIFY_WORKERS=-1 $T "$REPO/examples/softmax_scale.py"
try "AIKG_LLM_CONCURRENCY=0 tune" env AIKG_LLM_CONCURRENCY=0 AIKG_LLM_BASE_URL=http://127.0.0.1:9/v1 $T "$REPO/examples/softmax_scale.py"
try "AIKG_LLM_BASE_URL=not-a-url tune" env AIKG_LLM_BASE_URL=not-a-url $T "$REPO/examples/softmax_scale.py"
try "cache ls on a missing dir" aikg cache --cache-dir /nonexistent ls
try "cache show with no key match" aikg cache --cache-dir $C show zzzz
try "cache prune --max-size banana" aikg cache --cache-dir $C prune --max-size banana
try "report --cache-dir /nonexistent" aikg report --cache-dir /nonexistent --out $C.report
try "verify --candidate missing" aikg verify --task abc --candidate /nonexistent.cpp --tasks-dir $C
try "inspect --reps -1" aikg inspect "$REPO/examples/softmax_scale.py" --reps -1
try "inspect --show nomatch" aikg inspect "$REPO/examples/softmax_scale.py" --show zzzz
