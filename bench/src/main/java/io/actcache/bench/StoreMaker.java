package io.actcache.bench;

import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Builds a store fixture of many equal F32 columns {@code [rows, 768]}, with durability NONE, then writes back
 * the column files ({@link BenchFiles#syncFileSystem}) so write-back of the build does not disturb what is
 * measured next. Used by {@link OpenBenchmark} and {@link ReadBenchmark}, and from the command line for the CLI
 * start-up measurement: {@code java -cp bench/target/benchmarks.jar io.actcache.bench.StoreMaker DIR KEYS TOTAL_MIB}.
 */
public final class StoreMaker {
    /** Width of every column's row: the F32 residual stream of GPT-2 small. */
    public static final int ROW_WIDTH = 768;
    /** Keys committed per batch. */
    public static final int KEYS_PER_COMMIT = 100;

    private StoreMaker() {
    }

    /**
     * @param args store directory (new or empty), key count, total MiB of tensor data.
     */
    public static void main(final String[] args) {
        if (args.length != 3) {
            System.err.println("usage: StoreMaker DIR KEYS TOTAL_MIB");
            System.exit(2);
        }
        System.out.println(build(Path.of(args[0]), Integer.parseInt(args[1]), Long.parseLong(args[2]) << 20));
    }

    /**
     * Finds a fixture an earlier trial built under {@code root} (marked complete only after the build finished),
     * or builds it there.
     *
     * @param root       the fixture's own directory; deleted and rebuilt when not marked complete.
     * @param keys       number of keys.
     * @param totalBytes tensor bytes in all, as for {@link #build}.
     * @return the store directory, {@code root/store}.
     */
    public static Path obtain(final Path root, final int keys, final long totalBytes) {
        final Path store = root.resolve("store");
        final Path complete = root.resolve("complete");
        if (Files.exists(complete)) {
            System.out.println(System.lineSeparator() + "reusing " + store);
            return store;
        }
        BenchFiles.deleteTree(root);
        try {
            Files.createDirectories(root);
            System.out.println(System.lineSeparator() + build(store, keys, totalBytes));
            Files.createFile(complete);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot build the store in " + root + ": " + e, e);
        }
        return store;
    }

    /**
     * @param store      a new or empty directory.
     * @param keys       number of keys, at least 1.
     * @param totalBytes tensor bytes in all, rounded down to whole rows per key (at least one row each).
     * @return a line saying what was built and how long it took.
     */
    public static String build(final Path store, final int keys, final long totalBytes) {
        final long rowBytes = ROW_WIDTH * (long) DType.F32.byteWidth();
        final long rows = Math.max(1, totalBytes / keys / rowBytes);
        BenchFiles.requireFreeSpace(store.toAbsolutePath().getParent(), rows * rowBytes * keys);
        final Tensor column = Tensor.allocate(DType.F32, Shape.of(rows, ROW_WIDTH));
        final FloatBuffer floats = column.buffer().asFloatBuffer();
        for (int i = 0; floats.hasRemaining(); i++) {
            floats.put(i * 0.5f);
        }
        final TensorView view = column.view();
        final long start = System.nanoTime();
        final StoreOptions options = StoreOptions.builder().durability(Durability.NONE).expectedKeys(keys).build();
        try (ActivationStore writer = ActivationStore.create(store, options)) {
            for (int first = 0; first < keys; first += KEYS_PER_COMMIT) {
                try (ActivationStore.Batch batch = writer.batch()) {
                    for (int key = first; key < Math.min(keys, first + KEYS_PER_COMMIT); key++) {
                        batch.append(key(key), view);
                    }
                    batch.commit();
                }
            }
        }
        final long written = System.nanoTime();
        BenchFiles.syncFileSystem(store.resolve("columns"));
        return String.format(Locale.ROOT, "built %s: %d keys x [%d, %d] F32 = %.2f GiB, written in %.1f s, "
            + "synced in %.1f s", store, keys, rows, ROW_WIDTH, rows * rowBytes * keys / (double) (1L << 30),
            (written - start) / 1e9, (System.nanoTime() - written) / 1e9);
    }

    /**
     * @param i key number.
     * @return a hook-style key, spread over 12 layers.
     */
    public static String key(final int i) {
        return String.format(Locale.ROOT, "blocks.%d.hook_resid_post.%05d", i % 12, i);
    }
}
