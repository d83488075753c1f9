#!/usr/bin/env bash
# `aikg tune` and torch.compile(mode tune) against a dead or misbehaving LLM endpoint. Expected: one line naming the
# endpoint, no traceback, exit 0 (the kernel is kept as Inductor's), nothing in the cache lost.
set -u
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/../../.." && pwd)
export PYTHONPATH=$REPO OMP_NUM_THREADS=1 AIKG_LLM_MODEL=junk-model AIKG_LLM_API_KEY=x
C=$(mktemp -d /tmp/r20-llm-XXXX)/cache
P=$REPO/examples/softmax_scale.py
try() {
  local what=$1; shift
  local start=$SECONDS
  local out; out=$(timeout 400 "$@" 2>&1); local rc=$?
  local tb=no; grep -q Traceback <<<"$out" && tb=yes
  local warn; warn=$(grep -E '^(WARNING|aikg)' <<<"$out" | head -3 | cut -c1-230 | tr '\n' '|')
  printf '%s | rc=%s | %ss | traceback=%s | warnings: %s | last: %s\n' "$what" "$rc" $((SECONDS-start)) "$tb" "$warn" "$(grep -v '^\s*$' <<<"$out" | tail -1 | cut -c1-160)"
}
T="aikg tune --cache-dir $C --budget-s 30 --budget-candidates 2 --retune"
try "closed port" env AIKG_LLM_BASE_URL=http://127.0.0.1:9/v1 $T $P
for kind in junk models-ok empty-choices html500 hang; do
  port=$((18000 + RANDOM % 1000))
  python "$HERE/junk_llm_server.py" $port $kind & srv=$!
  sleep 1
  try "$kind server" env AIKG_LLM_BASE_URL=http://127.0.0.1:$port/v1 $T $P
  kill $srv
done
try "compile mode tune, closed port" env AIKG_LLM_BASE_URL=http://127.0.0.1:9/v1 AIKG_MODE=tune python -c "
import torch; m=torch.compile(lambda x: torch.softmax(x*0.125,-1), backend='aikg', options={'cache_dir': '$C'})
x=torch.randn(64,512); print('correct' if torch.allclose(m(x), torch.softmax(x*0.125,-1)) else 'WRONG')"
