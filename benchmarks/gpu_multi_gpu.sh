#!/bin/bash
# The two-GPU run of benchmarks/multi_gpu_tune.py in one device command: carry .whlray (this project's wheels as in
# gpu_env.sh, plus Ray without its Java jars (benchmarks/slim_ray_wheel.py) and jsonschema, which the image lacks).
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whlray/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 TORCHINDUCTOR_CACHE_DIR=/tmp/inductor-$$
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . || exit 1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import ray, torch; print('ray', ray.__version__, 'gpus', torch.cuda.device_count())" || exit 1
out="${OUT:-/tmp/multi_gpu}"; mkdir -p "$out"
python3 benchmarks/multi_gpu_tune.py --out "$out/multi_gpu_tune_2xH200.json" "$@" 2>&1 | tee "$out/multi_gpu_log.txt" | grep -v "^INFO\|AUTOTUNE\|triton_mm\|^  mm"
