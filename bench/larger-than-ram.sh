#!/usr/bin/env bash
# Larger than RAM (issue 9; not in CI, not a unit test). In a JVM with -Xmx512m: writes a store of 1.5x the
# machine's RAM through the API, then reads one key in row blocks, against a cold sequential read of the same
# column file (page cache dropped when run as root, else O_DIRECT reads; the JSON says which), with peak RSS.
#   bench/larger-than-ram.sh                full run: 1.5 x MemTotal (35 GB on a 23.5 GiB machine; needs 1.25x
#                                           that free under java.io.tmpdir, or pass --dir)
#   bench/larger-than-ram.sh --gib 2        smoke run with a 2 GiB store
#   more options: --dir DIR --keys K --batch-mib M --block-mib M --max-mapped-mib M --repeat N --out FILE --keep (see LargerThanRam's javadoc)
# Results: bench/target/larger-than-ram.json unless --out names another file. Builds the jar when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/bench/target/benchmarks.jar"
if [[ ! -f "$jar" || "${ACTCACHE_BENCH_REBUILD:-0}" == 1 ]]; then
  (cd "$root" && mvn -B -q -Dmaven.test.skip=true package -pl bench -am)
fi
# The JVM flags the parent pom defines for Chronicle Map and Agrona, from the jar (no flag is typed here).
flags="$(unzip -p "$jar" META-INF/actcache/jvm.flags | tr '\n' ' ')"
version="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
if [[ "${version%%.*}" -ge 22 ]]; then
  flags="$flags $(unzip -p "$jar" META-INF/actcache/jvm-jdk22.flags | tr '\n' ' ')"
fi
# shellcheck disable=SC2086 # flags are whitespace-separated on purpose
exec java -Xmx512m $flags -cp "$jar" io.actcache.bench.LargerThanRam \
  --out "$root/bench/target/larger-than-ram.json" "$@"
