/**
 * JMH benchmarks of actcache, each measured against baselines in the same run and reported as ratios.
 *
 * <p>Run them through {@link io.actcache.bench.BenchMain} (the uber-jar's main class, or {@code bench/run.sh}):
 * it hands JMH's forked JVMs the flags the parent pom defines, and prints the ratio table
 * ({@link io.actcache.bench.Report}). Benchmarks write only under {@code java.io.tmpdir} and delete what they
 * wrote. Settings and measured figures are in {@code docs/PERFORMANCE.md}.
 */
package io.actcache.bench;
