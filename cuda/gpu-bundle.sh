#!/usr/bin/env bash
# Builds .gpu/, everything the GPU machine (no Java, no Maven, no network) needs to run the cuda module's tests
# and the GPU benchmarks: a jlink'ed Java 17 runtime, the runtime jars (JNA, chronicle-analytics and JCuda's
# NVRTC/PTX-compiler/runtime natives left out), the test classes, the JUnit console launcher, the JMH uber-jar,
# the benchmark jar with JMH, and jvm.flags taken from the flags core generates from the parent pom (never typed
# here). Benchmarks run from the thin jars in lib/ rather than the JMH uber-jar, which would carry a second copy
# of every runtime class (14 MB) and push the bundle past 60 MiB.
# Then cuda/run-gpu.sh runs everything there in one command. See docs/GPU.md.
#
# Usage (repository root or anywhere): cuda/gpu-bundle.sh [--no-build]
#   JDK17_HOME  the JDK that jlinks the runtime (default: /usr/lib/jvm/java-17-openjdk-amd64)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bundle="$root/.gpu"
jdk="${JDK17_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"

if [[ "${1:-}" != "--no-build" ]]; then
  mvn -B -q -DskipTests -pl cuda,bench -am package
fi
# .gpu/ is a build output: never committed.
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude

rm -rf "$bundle"
mkdir -p "$bundle/lib" "$bundle/test-lib"

"$jdk/bin/jlink" --add-modules java.base,java.compiler,java.management,java.naming,java.sql,jdk.unsupported,jdk.compiler,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=2 --exclude-files='**/ct.sym' --output "$bundle/jre"

# Runtime jars of the cuda and bench modules (core, JMH and their dependencies included), then the modules.
# The benchmark suite's command line and plotting stack (picocli, XChart, PDFBox...) stay out: the GPU run uses
# JMH's own main.
mvn -B -q -pl cuda,bench dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$bundle/lib" \
  -DexcludeGroupIds=info.picocli,org.knowm.xchart,de.erichseifert.vectorgraphics2d,de.rototor.pdfbox,org.apache.pdfbox,commons-logging,com.madgag
cp cuda/target/actcache-cuda-*.jar bench/target/actcache-bench-*.jar "$bundle/lib/"
rm -f "$bundle"/lib/jna-*.jar "$bundle"/lib/chronicle-analytics-*.jar
for natives in "$bundle"/lib/jcuda-natives-*.jar; do
  zip -q -d "$natives" 'lib/libJNvrtc-*' 'lib/libJNvPTXCompiler-*' 'lib/libJCudaRuntime-*' || true
done

# Tests: the cuda module's test classes, JUnit Jupiter from the console launcher matching the pom's JUnit.
cp -r cuda/target/test-classes "$bundle/test-classes"
junit="$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)"
platform="1.${junit#5.}"
mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform" \
  -DoutputDirectory="$bundle/test-lib"
mv "$bundle"/test-lib/junit-platform-console-standalone-*.jar "$bundle/junit.jar"
rmdir "$bundle/test-lib"

# JVM flags, from the resource core generates out of the parent pom's flag lists (JDK 17: no JDK 22 flags).
unzip -p "$bundle"/lib/actcache-core-*.jar META-INF/actcache/jvm.flags | tr -s ' \n' '\n' | sed '/^$/d' \
  > "$bundle/jvm.flags"

"$bundle/jre/bin/java" -version 2>&1 | head -1
du -sh "$bundle"
size_kib="$(du -sk "$bundle" | cut -f1)"
if (( size_kib > 60 * 1024 )); then
  echo "gpu-bundle.sh: .gpu is $((size_kib / 1024)) MiB, over the 60 MiB that may travel to the GPU machine" >&2
  exit 1
fi
