#!/bin/bash
# One device command (under 10 minutes) of the GPU checks that the CPU suite cannot make: the candidate runner's
# sandbox with CUDA, the Triton adversarial cases and tuned softmax (gpu_verify.py), the hand-written LLM-reply
# fixtures (llm_fixtures.py; stand-ins, not model output), a launcher-form stand-in run by torch.compile through
# the bound launcher (gpu_launcher_swap.py) and the tests that need torch 2.11 or a GPU.
# Carry .whl (what gpu_env.sh installs, and openai with its dependencies for the fixtures). Results go to $OUT.
#   bash benchmarks/gpu_checks.sh [SECTION ...]    sections: sandbox verify fixtures swap tests (default: all)
set -o pipefail
sections="${*:-sandbox verify fixtures swap tests}"
wants() { [[ " $sections " == *" $1 "* ]]; }
. benchmarks/gpu_env.sh || exit 1
out="${OUT:-/tmp/gpu_checks}"; mkdir -p "$out"
python3 -c "import ctypes.util; print('libseccomp:', ctypes.util.find_library('seccomp'))"; uname -r
wants sandbox && echo "== sandbox with CUDA" && timeout 120 python3 -c "
import tempfile, torch
torch.ones(1, device='cuda')
from aikg_inductor.verify.sandbox import lock_down
print(lock_down(tempfile.mkdtemp(), 'cuda', 600))
x = torch.randn(4096, 4096, device='cuda'); print('matmul after lockdown', float((x @ x).sum()))" 2>&1 | tail -5
wants verify && echo "== adversarial cases and tuned softmax" &&
(cd benchmarks && timeout 330 python3 gpu_verify.py --out "$out") 2>&1 | tee "$out/gpu_verify_log.txt" | tail -45
wants fixtures && echo "== LLM-reply fixtures (hand-written stand-ins)" &&
timeout 120 python3 benchmarks/llm_fixtures.py --device cuda --out "$out/llm_fixtures_H200.json" 2>&1 | tail -12
wants swap && echo "== a launcher-form kernel inside torch.compile (hand-written stand-in)" &&
timeout 150 python3 benchmarks/gpu_launcher_swap.py --out "$out" 2>&1 | tail -25
wants tests && echo "== tests on torch $(python3 -c 'import torch; print(torch.__version__)')" &&
timeout 170 python3 -m pytest -q -p no:cacheprovider tests/test_private_apis.py tests/test_triton_launcher.py \
  tests/test_tuner_descent.py tests/test_user_messages.py 2>&1 | tail -8
