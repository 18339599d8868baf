package io.actcache.bench;

import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Opening and closing a store of {@link #keys} keys holding {@link #totalGiB} GiB in all, as a writer and as a
 * reader, in a warm JVM. Stores of different sizes with the same key count must open in the same time: opening
 * reads the manifest, journal and index, never column data.
 *
 * <p>Design note: the store is built once per trial (one fork) with durability NONE, then every column file is
 * forced so background write-back of the build does not disturb the timing. A writer's close checkpoints, so
 * {@link #openWriter()} includes rewriting the manifest of every key: O(keys) as well.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
public class OpenBenchmark {
    /** Name of the store-size parameter. */
    public static final String TOTAL_GIB = "totalGiB";
    /** Width of every column's row: the F32 residual stream of GPT-2 small. */
    public static final int ROW_WIDTH = 768;
    /** Keys committed per batch while building. */
    public static final int KEYS_PER_COMMIT = 100;

    /** Total bytes of tensor data, GiB. */
    @Param({"1", "16"})
    public int totalGiB;

    /** Keys in the store. */
    @Param({"10000"})
    public int keys;

    private Path root;
    private Path dir;

    /** Writes the store: {@link #keys} columns of equal size. */
    @Setup(Level.Trial)
    public void build() {
        final long rowBytes = ROW_WIDTH * (long) DType.F32.byteWidth();
        final long rows = Math.max(1, ((long) totalGiB << 30) / keys / rowBytes);
        root = BenchFiles.newDirectory("actcache-bench-open-");
        BenchFiles.requireFreeSpace(root, rows * rowBytes * keys);
        dir = root.resolve("store");
        final Tensor column = Tensor.allocate(DType.F32, Shape.of(rows, ROW_WIDTH));
        final FloatBuffer floats = column.buffer().asFloatBuffer();
        for (int i = 0; floats.hasRemaining(); i++) {
            floats.put(i * 0.5f);
        }
        final TensorView view = column.view();
        final long start = System.nanoTime();
        final StoreOptions options = StoreOptions.builder().durability(Durability.NONE).expectedKeys(keys).build();
        try (ActivationStore store = ActivationStore.create(dir, options)) {
            for (int first = 0; first < keys; first += KEYS_PER_COMMIT) {
                try (ActivationStore.Batch batch = store.batch()) {
                    for (int key = first; key < Math.min(keys, first + KEYS_PER_COMMIT); key++) {
                        batch.append(key(key), view);
                    }
                    batch.commit();
                }
            }
        }
        forceColumnFiles(dir.resolve("columns"));
        System.out.printf(Locale.ROOT, "%nbuilt %s: %d keys x [%d, %d] F32 = %.2f GiB in %.1f s (forced)%n", dir, keys,
            rows, ROW_WIDTH, rows * rowBytes * keys / (double) (1L << 30), (System.nanoTime() - start) / 1e9);
    }

    /** Deletes the store. */
    @TearDown(Level.Trial)
    public void delete() {
        BenchFiles.deleteTree(root);
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

    /**
     * @param i key number.
     * @return a hook-style key, spread over 12 layers.
     */
    static String key(final int i) {
        return String.format(Locale.ROOT, "blocks.%d.hook_resid_post.%05d", i % 12, i);
    }

    private static void forceColumnFiles(final Path columns) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(columns)) {
            for (final Path file : files) {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot force the column files in " + columns + ": " + e, e);
        }
    }
}
