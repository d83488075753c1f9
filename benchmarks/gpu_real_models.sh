#!/bin/bash
# The H200 run of benchmarks/real_models.py in ONE device command (the device's 10-minute limit): run from the
# repository root, carrying .whl (diskcache, faiss-cpu: what gpu_env.sh installs) and .whl_hf (transformers, used
# only when the image has none). Workloads run in real_models.py's order (two 1 GiB norms, the Llama layer's
# inference and training, two more 1 GiB reductions, the other models) until the deadline; the rest are listed as left out in the report. Choose a subset with extra
# arguments, and name its files apart, e.g. a second command for what the first left out:
#   bash benchmarks/gpu_real_models.sh --name real_models_b --only gpt2-infer-fp16,bert-infer-fp32,qwen2-infer-bf16
# aikg's budget here: 16 candidates / 30 s per kernel, 90 s per compile (a model's forward and backward share it).
#   DEADLINE_S   seconds real_models.py may plan for (default 450: ~8 minutes with the install)
set -o pipefail
. benchmarks/gpu_env.sh || exit 1
if ! python3 -c "import transformers" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl_hf/*.whl || exit 1
fi
python3 -c "import transformers; print('transformers', transformers.__version__)" || exit 1
out="${OUT:-/tmp/real_models}"
mkdir -p "$out"
python3 benchmarks/real_models.py --out "$out" --deadline-s "${DEADLINE_S:-450}" --budget-s 30 --run-budget-s 90 "$@" \
  2>&1 | tee "$out/real_models_log.txt"
