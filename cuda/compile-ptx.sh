#!/usr/bin/env bash
# Compiles the kernels in cuda/src/main/cuda/*.cu to the PTX resources the cuda module ships and loads with
# cuModuleLoadData. Run after editing a .cu file, then commit both; PtxResourceTest fails when they differ.
# Usage: cuda/compile-ptx.sh [output-dir]   (default: the module's resource folder)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/src/main/resources/io/actcache/cuda}"
mkdir -p "$out"
for source in "$here"/src/main/cuda/*.cu; do
  name="$(basename "$source" .cu)"
  # No FMA contraction, IEEE division and square root, no flush-to-zero: the CPU path's arithmetic, bit for bit.
  nvcc -ptx -arch=compute_80 -fmad=false -prec-div=true -prec-sqrt=true -ftz=false \
    -o "$out/$name.ptx" "$source"
done
