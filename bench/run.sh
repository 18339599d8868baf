#!/usr/bin/env bash
# Runs the JMH benchmarks with the JVM flags the parent pom defines (BenchMain appends them to every fork).
#   bench/run.sh                      full run (about 5 minutes here), results in bench/target/
#   bench/run.sh --quick              one fork, fewer iterations, 1 and 4 GiB stores, merges of N = 16, 64 on tmpfs
#   bench/run.sh AppendBenchmark      any JMH option or benchmark regex; bench/run.sh -h lists them
# JMH only: `bin/actcache bench` runs the whole suite (these benchmarks, the PyTorch side-by-side, tables and plots).
# Builds bench/target/benchmarks.jar first when it is missing (ACTCACHE_BENCH_REBUILD=1 forces a build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/bench/target/benchmarks.jar"
if [[ ! -f "$jar" || "${ACTCACHE_BENCH_REBUILD:-0}" == 1 ]]; then
  (cd "$root" && mvn -B -q -Dmaven.test.skip=true package -pl bench -am)
fi
exec java -Dactcache.bench.out="$root/bench/target" -jar "$jar" "$@"
