#!/bin/bash
# Two benchmark jobs side by side on a two-GPU machine (nvidia-h200-x2), one GPU each, in ONE device command:
#   bash benchmarks/gpu_two_jobs.sh LIMIT_S "JOB ON GPU 0" "JOB ON GPU 1"
# Each job is a shell command run from the repository root with CUDA_VISIBLE_DEVICES set, its own Inductor cache and
# OUT=$OUT/gpu0 or $OUT/gpu1, on its own half of the CPU cores (a model's step is partly launch-bound: a neighbour's
# compiles on the same cores showed as several percent of round-to-round noise); each is stopped after LIMIT_S seconds. Everything the jobs write comes back as one
# archive, $OUT/results.tgz (the device returns at most 8 files), with each job's log inside it.
set -o pipefail
limit="$1"; shift
. benchmarks/gpu_env.sh || exit 1
base="${OUT:-/tmp/two_jobs}"; work=/tmp/two_jobs_out; rm -rf "$work"; mkdir -p "$work"  # a machine can keep /tmp
gpu=0; cores=$(nproc); share=$((cores / $#))
for job in "$@"; do
  mkdir -p "$work/gpu$gpu"
  (export CUDA_VISIBLE_DEVICES=$gpu OUT="$work/gpu$gpu" TORCHINDUCTOR_CACHE_DIR=/tmp/inductor-gpu$gpu
   taskset -c $((gpu * share))-$((gpu * share + share - 1)) timeout "$limit" bash -c "$job" > "$work/gpu$gpu/job_log.txt" 2>&1; echo "gpu$gpu job exit $?") &
  gpu=$((gpu + 1))
done
wait
tar czf "$base/results.tgz" -C "$work" .
for log in "$work"/gpu*/job_log.txt; do echo "== $log"; tail -25 "$log"; done
