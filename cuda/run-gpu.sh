#!/usr/bin/env bash
# One command on the GPU machine (from the repository root, with .gpu/ built by cuda/gpu-bundle.sh beside it):
# the device, the cuda module's tests (GPU tests included), the GPU benchmarks, torch.cat of the same shapes
# timed with CUDA events, and the ratios the targets are stated in -- every figure from one machine in one run.
# Logs and results go to $OUT (default: ./gpu-out).
#
# Usage: cuda/run-gpu.sh [--tests-only | --bench-only]
# The whole run may pass a 10-minute limit per command: then run --tests-only and --bench-only as two commands
# on the same machine (every figure comes from the --bench-only half).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${OUT:-$root/gpu-out}"
mkdir -p "$out"
java="$root/.gpu/jre/bin/java"
what="${1:-all}"
status=0

{
  date -u
  nvidia-smi -L
  nvidia-smi --query-gpu=name,driver_version,memory.total,pcie.link.gen.current,pcie.link.width.current --format=csv
  uname -r
} > "$out/device.txt" 2>&1
cat "$out/device.txt"

classpath="$(ls "$root"/.gpu/lib/*.jar | tr '\n' ':').gpu/test-classes"
if [[ "$what" != "--bench-only" ]]; then
  # Big direct buffers: the > 2^31-byte cases hold several GiB of host tensors.
  timeout 560 "$java" @.gpu/jvm.flags -Xmx8g -XX:MaxDirectMemorySize=24g \
    -Dactcache.fixtures="$root/testdata/fixtures" \
    -jar .gpu/junit.jar execute --class-path "$classpath" --select-package io.actcache.cuda \
    --details tree --disable-banner --reports-dir "$out/junit" > "$out/tests.txt" 2>&1 || status=1
  tail -40 "$out/tests.txt"
fi

if [[ "$what" != "--tests-only" ]]; then
  mkdir -p "$out/jmh"
  # JMH's own main, with the project's JVM flags appended to every fork (the same file the tests use).
  timeout 420 "$java" @.gpu/jvm.flags -Djmh.ignoreLock=true -cp "$classpath" org.openjdk.jmh.Main GpuMergeBenchmark \
    -jvmArgsAppend "$(tr '\n' ' ' < .gpu/jvm.flags)" \
    -wi 2 -w 1 -i 3 -r 1 -rf json -rff "$out/jmh/gpu-jmh.json" > "$out/jmh.txt" 2>&1 || status=1
  grep -E '^(Benchmark|GpuMergeBenchmark)|Error|Exception' "$out/jmh.txt" | uniq -c | tail -40
  timeout 100 python3 bench/python/torch_cat_gpu.py --out "$out/torch_cat_gpu.json" > "$out/torch.txt" 2>&1 \
    || status=1
  cat "$out/torch.txt"
  python3 cuda/gpu_ratios.py "$out/jmh/gpu-jmh.json" "$out/torch_cat_gpu.json" > "$out/gpu-ratios.md" 2>&1 \
    || status=1
  cat "$out/gpu-ratios.md"
fi
exit $status
