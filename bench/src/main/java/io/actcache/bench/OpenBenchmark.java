package io.actcache.bench;

import io.actcache.store.ActivationStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Opening and closing a store of {@link #keys} keys holding {@link #totalGiB} GiB in all, as a writer and as a
 * reader, in a warm JVM. Stores of different sizes with the same key count must open in the same time: opening
 * reads the manifest, journal and index, never column data.
 *
 * <p>Design note: each store is built once per run ({@link StoreMaker}) under {@link #storesRoot()} and reused by
 * the later trials (forks) of the same size. A writer's close checkpoints, so {@link #openWriter()} includes
 * rewriting the manifest of every key: O(keys) as well.
 *
 * <p>Issue 9's target, "under 50 ms plus O(keys), independent of bytes stored", is read off two fits
 * ({@link Report}): time at the largest {@code totalGiB} over the smallest at equal keys (~1), and the straight
 * line through the times at the two key counts at equal size, whose intercept is the fixed cost (under 50 ms).
 * Full run: {@code totalGiB=1,8} x {@code keys=1000,10000} (four stores, 18 GiB, built once and reused by the
 * later forks); {@code --quick} should use {@code -p totalGiB=1,2 -p keys=1000,10000}, 1 fork, 2 + 4 iterations.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 8, time = 1)
public class OpenBenchmark {
    /** Name of the store-size parameter. */
    public static final String TOTAL_GIB = "totalGiB";
    /** Name of the key-count parameter. */
    public static final String KEYS = "keys";

    /** Total bytes of tensor data, GiB. */
    @Param({"1", "8"})
    public int totalGiB;

    /** Keys in the store. */
    @Param({"1000", "10000"})
    public int keys;

    private Path dir;

    /**
     * @return the directory holding the stores this benchmark builds, under {@code java.io.tmpdir}; deleted by
     *     {@link BenchMain} after a run unless {@value BenchMain#KEEP_PROPERTY} is true.
     */
    public static Path storesRoot() {
        return Path.of(System.getProperty("java.io.tmpdir"), "actcache-bench-stores");
    }

    /** Finds the store of this size and key count built by an earlier trial, or builds it. */
    @Setup(Level.Trial)
    public void obtainStore() {
        dir = StoreMaker.obtain(storesRoot().resolve(totalGiB + "gib-" + keys + "keys"), keys, (long) totalGiB << 30);
    }

    /**
     * Opens the store for writing (lock, journal scan, index) and closes it (checkpoint, unlock).
     *
     * @return the key count.
     */
    @Benchmark
    public int openWriter() {
        try (ActivationStore store = ActivationStore.open(dir)) {
            return store.size();
        }
    }

    /**
     * Opens the store for reading (manifest and journal into a heap index) and closes it.
     *
     * @return the key count.
     */
    @Benchmark
    public int openReadOnly() {
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            return store.size();
        }
    }
}
