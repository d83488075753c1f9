# Source on a lent GPU machine, from the repository root: installs what its image lacks from the carried wheels
# (.whl: diskcache, faiss-cpu, pyelftools, capstone, landlockpy, pyseccomp; the GPU image has torch, triton,
# matplotlib and transformers) and this project. Sourcing it again in the same shell (or a child) installs nothing.
#   . benchmarks/gpu_env.sh && python benchmarks/run_suite.py ...
if [ -z "$AIKG_GPU_ENV_READY" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || return 1
  export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 TORCHINDUCTOR_CACHE_DIR=/tmp/inductor-$$
  python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . || return 1
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
  export AIKG_GPU_ENV_READY=1
fi
