#!/usr/bin/env bash
# Import and export of a set of safetensors batch files through bin/actcache, in bounded memory (-Xmx256m),
# against the disk's sequential write bandwidth measured in the same run (dd with conv=fdatasync).
#   bench/interop.sh [GIB] [WORKDIR]     defaults: 4 GiB under ${TMPDIR:-/tmp}
# Needs python3 with numpy and safetensors (src/target/pyenv, made by the e2e tests, or set PYTHON).
# Prints one Markdown table; the numbers go to docs/PERFORMANCE.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gib="${1:-4}"
work="$(mktemp -d "${2:-${TMPDIR:-/tmp}}/actcache-interop-XXXXXX")"
trap 'rm -rf "$work"' EXIT
python="${PYTHON:-$root/src/target/pyenv/bin/python3}"
"$python" -c 'import numpy, safetensors' || { echo "need python3 with numpy and safetensors (PYTHON=...)"; exit 1; }

seconds() { local start=$1; echo "$(date +%s.%N) - $start" | bc; }
drop_caches() { sync; if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; echo dropped; else echo kept; fi; }

# GPT-2-small-shaped batches: 12 x [8,128,768] F32 + input_ids, 37.8 MB each, as a hook loop writes them.
batches=$(( gib * 1024 * 1024 * 1024 / 37761024 ))
"$python" - "$work/dumps" "$batches" <<'PY'
import os, sys, numpy as np
from safetensors.numpy import save_file
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
base = np.arange(8 * 128 * 768, dtype=np.float32).reshape(8, 128, 768) * 1e-3
for b in range(n):
    t = {"blocks.%d.hook_resid_post" % l: base + (b * 12 + l) for l in range(12)}
    t["input_ids"] = np.full((8, 128), b, dtype=np.int64)
    save_file(t, os.path.join(out, "batch_%d.safetensors" % b))
PY
bytes=$(du -sb "$work/dumps" | cut -f1)

cache_state=$(drop_caches)
start=$(date +%s.%N); dd if=/dev/zero of="$work/dd" bs=64M count=$(( bytes / 67108864 )) conv=fdatasync status=none
dd_s=$(seconds "$start"); dd_bytes=$(stat -c %s "$work/dd"); rm -f "$work/dd"
# The same bytes read cold from the batch files and written to one file: the disk work an import does.
drop_caches >/dev/null
start=$(date +%s.%N); cat "$work"/dumps/* | dd of="$work/copy" bs=64M iflag=fullblock conv=fdatasync status=none
copy_s=$(seconds "$start"); rm -f "$work/copy"

export ACTCACHE_JAVA_OPTS="-Xmx256m"
"$root/bin/actcache" create "$work/store" >/dev/null
drop_caches >/dev/null
start=$(date +%s.%N)
/usr/bin/time -f %M -o "$work/import.rss" "$root/bin/actcache" import "$work/store" "$work/dumps" --quiet
import_s=$(seconds "$start")
drop_caches >/dev/null
start=$(date +%s.%N)
/usr/bin/time -f %M -o "$work/export.rss" \
  "$root/bin/actcache" export "$work/store" "$work/export" --format safetensors --shard-size 2GB --quiet
export_s=$(seconds "$start")
import_rss=$(tail -1 "$work/import.rss"); export_rss=$(tail -1 "$work/export.rss")

awk -v b="$bytes" -v db="$dd_bytes" -v d="$dd_s" -v i="$import_s" -v e="$export_s" -v n="$batches" -v c="$cache_state" \
    -v ir="$import_rss" -v er="$export_rss" -v cp="$copy_s" 'BEGIN {
  dd = db / d / 1e9; im = b / i / 1e9; ex = b / e / 1e9; co = b / cp / 1e9
  printf "| %d batch files, %.2f GB, -Xmx256m, page cache %s before each step | GB/s | of dd | peak RSS |\n", n, b / 1e9, c
  printf "|---|---:|---:|---:|\n"
  printf "| dd if=/dev/zero bs=64M conv=fdatasync (baseline) | %.2f | 1.00 | |\n", dd
  printf "| cat batch files, cold, into dd conv=fdatasync (read + write, as import does) | %.2f | %.2f | |\n", co, co / dd
  printf "| actcache import (FSYNC store) | %.2f | %.2f | %d MiB |\n", im, im / dd, ir / 1024
  printf "| actcache export --format safetensors --shard-size 2GB | %.2f | %.2f | %d MiB |\n", ex, ex / dd, er / 1024
}'
