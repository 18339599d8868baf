package io.actcache.bench;

import io.actcache.store.ActivationStore;
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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Reading every RAW F32 column of a store of {@code storeMiB} MiB ({@value #KEYS} keys), block by block into one
 * 4 MiB direct buffer, from the page cache and from disk, against the same bytes (1) copied from off-heap memory
 * and (2) read cold from one plain file with sequential channel reads.
 *
 * <p>Contenders (one measured invocation reads the whole store once; scores are ms per store):
 * <ul>
 *   <li>{@code pageCache}: ours, a reader open for the whole trial, so after the warm-up its mappings are
 *       faulted in and a read is a copy out of the page cache. Judged against {@code memoryCopy} (>= 0.80).</li>
 *   <li>{@code pageCacheReopen}: ours, a reader opened before each shot (not timed), so the timed read also pays
 *       the page faults of fresh mappings. Reported against {@code memoryCopy}.</li>
 *   <li>{@code memoryCopy}: baseline 1, the same bytes copied from a faulted off-heap buffer (cycled: 256 MiB at
 *       most, larger than any CPU cache) into the same destination.</li>
 *   <li>{@code cold}: ours after {@code echo 1 > /proc/sys/vm/drop_caches}, a reader opened after the drop (not
 *       timed). Judged against {@code coldSequentialRead} (>= 0.80). Needs {@code coldBy=drop_caches}: a mapped
 *       read cannot bypass the page cache.</li>
 *   <li>{@code coldSequentialRead}: baseline 2, a plain file of the same bytes read front to back in 4 MiB
 *       requests, after a drop ({@code coldBy=drop_caches}, needs root) or with {@code O_DIRECT}
 *       ({@code -p coldBy=o_direct}, any user). The {@code coldBy} parameter in the results says which.</li>
 *   <li>{@code coldColumnFiles}: diagnostic, the store's own column files read cold with plain reads (needs
 *       root). Reported against {@code cold}: the cost of mapped reads apart from the file layout.</li>
 * </ul>
 *
 * <p>Design note: fixtures (the store and the plain file) are built once per size under
 * {@link OpenBenchmark#storesRoot()}, forced to disk, and reused by later trials; {@link BenchMain} deletes them
 * after the run. Full run: {@code storeMiB=256,1024,4096}, 1 fork (about 3 minutes with the builds); {@code --quick}
 * should use {@code -p storeMiB=256,1024} with 1 fork and the iterations below halved. A store larger than RAM
 * is {@link LargerThanRam}'s job, not JMH's.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@State(Scope.Benchmark)
public class ReadBenchmark {
    /** Name of the store-size parameter. */
    public static final String STORE_MIB = "storeMiB";
    /** Name of the cold-read method parameter. */
    public static final String COLD_BY = "coldBy";
    /** Keys in each store. */
    public static final int KEYS = 16;
    /** Bytes of the destination buffer every contender reads into. */
    public static final int BLOCK_BYTES = 4 << 20;

    private static final int MAX_SOURCE_BYTES = 256 << 20;

    /** Tensor bytes of the store, MiB. */
    @Param({"256", "1024", "4096"})
    public int storeMiB;

    Path store;
    Path plainFile;
    long dataBytes;
    ByteBuffer block;

    /**
     * Finds or builds this size's store and its plain-file twin, and allocates the destination.
     *
     * @throws IOException when the plain file cannot be written.
     */
    @Setup(Level.Trial)
    public void obtainFixtures() throws IOException {
        final Path root = OpenBenchmark.storesRoot().resolve("read-" + storeMiB + "mib-" + KEYS + "keys");
        store = StoreMaker.obtain(root, KEYS, (long) storeMiB << 20);
        try (ActivationStore reader = ActivationStore.openReadOnly(store)) {
            dataBytes = 0;
            for (final String key : reader.keys()) {
                dataBytes += reader.get(key).byteSize();
            }
        }
        plainFile = root.resolve("plain.bin");
        if (!Files.exists(plainFile) || Files.size(plainFile) != dataBytes) {
            writePlainFile(plainFile, dataBytes);
        }
        block = PageCache.alignedBuffer(BLOCK_BYTES);
    }

    private static void writePlainFile(final Path file, final long bytes) throws IOException {
        final ByteBuffer data = ByteBuffer.allocateDirect(BLOCK_BYTES);
        while (data.hasRemaining()) {
            data.put((byte) (data.position() * 31));
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            long position = 0;
            while (position < bytes) {
                data.clear().limit((int) Math.min(BLOCK_BYTES, bytes - position));
                while (data.hasRemaining()) {
                    position += channel.write(data, position);
                }
            }
            channel.force(true);
        }
    }

    /** A reader open for the whole trial. */
    @State(Scope.Thread)
    public static class TrialReader {
        ActivationStore reader;
        List<TensorView> columns;

        /**
         * @param fixtures the store.
         */
        @Setup(Level.Trial)
        public void open(final ReadBenchmark fixtures) {
            reader = ActivationStore.openReadOnly(fixtures.store);
            columns = columnsOf(reader);
            // A cold benchmark run before may have dropped the cache: even the first shot reads cached pages.
            fixtures.readAll(columns);
        }

        /** Closes the reader. */
        @TearDown(Level.Trial)
        public void close() {
            reader.close();
        }
    }

    /** A reader opened before each shot, the store's pages already in the page cache. */
    @State(Scope.Thread)
    public static class ShotReader {
        ActivationStore reader;
        List<TensorView> columns;

        /**
         * Reads the store once, so that every shot finds it in the page cache.
         *
         * @param fixtures the store.
         */
        @Setup(Level.Trial)
        public void warm(final ReadBenchmark fixtures) {
            try (ActivationStore warming = ActivationStore.openReadOnly(fixtures.store)) {
                fixtures.readAll(columnsOf(warming));
            }
        }

        /**
         * @param fixtures the store.
         */
        @Setup(Level.Iteration)
        public void open(final ReadBenchmark fixtures) {
            reader = ActivationStore.openReadOnly(fixtures.store);
            columns = columnsOf(reader);
        }

        /** Closes the reader, unmapping what the shot mapped. */
        @TearDown(Level.Iteration)
        public void close() {
            reader.close();
        }
    }

    /** A reader opened after the page cache was dropped. */
    @State(Scope.Thread)
    public static class ColdReader {
        /** How reads are made cold; ours supports {@value PageCache#DROP_CACHES} only. */
        @Param({PageCache.DROP_CACHES})
        public String coldBy;
        ActivationStore reader;
        List<TensorView> columns;

        /**
         * @param fixtures the store.
         */
        @Setup(Level.Iteration)
        public void open(final ReadBenchmark fixtures) {
            if (!PageCache.DROP_CACHES.equals(coldBy)) {
                throw new IllegalStateException("a store's mapped reads always go through the page cache: its cold "
                    + "read needs coldBy=" + PageCache.DROP_CACHES + " (root), not " + coldBy);
            }
            PageCache.drop();
            reader = ActivationStore.openReadOnly(fixtures.store);
            columns = columnsOf(reader);
        }

        /** Closes the reader. */
        @TearDown(Level.Iteration)
        public void close() {
            reader.close();
        }
    }

    /**
     * The plain file, opened after a drop or with {@code O_DIRECT}. {@code O_DIRECT} reads in
     * {@value PageCache#DIRECT_REQUEST_BYTES}-byte requests: with no kernel readahead, smaller synchronous
     * requests leave the disk idle between them and understate it.
     */
    @State(Scope.Thread)
    public static class ColdFile {
        /** How reads are made cold: {@value PageCache#DROP_CACHES} or {@value PageCache#O_DIRECT}. */
        @Param({PageCache.DROP_CACHES})
        public String coldBy;
        FileChannel channel;
        ByteBuffer buffer;

        /**
         * @param fixtures the plain file.
         */
        @Setup(Level.Iteration)
        public void open(final ReadBenchmark fixtures) {
            if (buffer == null) {
                buffer = PageCache.O_DIRECT.equals(coldBy) ? PageCache.alignedBuffer(PageCache.DIRECT_REQUEST_BYTES)
                    : fixtures.block;
            }
            PageCache.prepare(coldBy);
            channel = PageCache.openForRead(fixtures.plainFile, coldBy);
        }

        /**
         * Closes the file.
         *
         * @throws IOException when it cannot.
         */
        @TearDown(Level.Iteration)
        public void close() throws IOException {
            channel.close();
        }
    }

    /** The store's column files, in key order, to be read with plain reads after a drop. */
    @State(Scope.Thread)
    public static class ColdColumnFiles {
        List<Path> files;

        /**
         * @param fixtures the store.
         */
        @Setup(Level.Iteration)
        public void drop(final ReadBenchmark fixtures) {
            if (files == null) {
                try (ActivationStore reader = ActivationStore.openReadOnly(fixtures.store)) {
                    files = reader.keys().stream().sorted().map(reader::columnFile).toList();
                }
            }
            PageCache.drop();
        }
    }

    /** Baseline 1's source: faulted off-heap memory. */
    @State(Scope.Thread)
    public static class Memory {
        ByteBuffer source;

        /**
         * @param fixtures the size.
         */
        @Setup(Level.Trial)
        public void allocate(final ReadBenchmark fixtures) {
            // allocateDirect zeroes the memory, which faults in every page; then make it non-zero.
            source = ByteBuffer.allocateDirect((int) Math.min(MAX_SOURCE_BYTES, fixtures.dataBytes));
            while (source.hasRemaining()) {
                source.put((byte) source.position());
            }
        }
    }

    private static List<TensorView> columnsOf(final ActivationStore reader) {
        return reader.keys().stream().sorted().map(reader::get).toList();
    }

    /**
     * Ours from the page cache, mappings already faulted in.
     *
     * @param reader a reader open for the trial.
     * @return the last byte read.
     */
    @Benchmark
    public byte pageCache(final TrialReader reader) {
        return readAll(reader.columns);
    }

    /**
     * Ours from the page cache through fresh mappings.
     *
     * @param reader a reader opened for this shot.
     * @return the last byte read.
     */
    @Benchmark
    @Warmup(iterations = 2)
    @Measurement(iterations = 6)
    public byte pageCacheReopen(final ShotReader reader) {
        return readAll(reader.columns);
    }

    /**
     * Baseline 1: the same number of bytes copied from off-heap memory.
     *
     * @param memory the source.
     * @return the last byte copied.
     */
    @Benchmark
    public byte memoryCopy(final Memory memory) {
        final ByteBuffer source = memory.source;
        long left = dataBytes;
        int position = 0;
        while (left > 0) {
            final int n = (int) Math.min(Math.min(BLOCK_BYTES, left), source.capacity() - position);
            block.clear();
            block.put(0, source, position, n);
            left -= n;
            position = position + n == source.capacity() ? 0 : position + n;
        }
        return block.get(0);
    }

    /**
     * Ours from disk: every column read after the page cache was dropped.
     *
     * @param reader a reader opened after the drop.
     * @return the last byte read.
     */
    @Benchmark
    @Warmup(iterations = 1)
    @Measurement(iterations = 5)
    public byte cold(final ColdReader reader) {
        return readAll(reader.columns);
    }

    /**
     * Baseline 2: the plain file read cold, front to back.
     *
     * @param file the file, opened after a drop or with {@code O_DIRECT}.
     * @return bytes read.
     */
    @Benchmark
    @Warmup(iterations = 1)
    @Measurement(iterations = 5)
    public long coldSequentialRead(final ColdFile file) {
        final long read = PageCache.readAll(file.channel, file.buffer, plainFile);
        if (read != dataBytes) {
            throw new IllegalStateException("read " + read + " bytes of " + plainFile + ", expected " + dataBytes);
        }
        return read;
    }

    /**
     * Diagnostic baseline: the store's own column files read cold with plain sequential reads, as the plain file is;
     * against {@code cold} it isolates the cost of reading through mappings from the cost of the file layout.
     *
     * @param columns the column files, page cache dropped.
     * @return bytes read (headers included).
     */
    @Benchmark
    @Warmup(iterations = 1)
    @Measurement(iterations = 5)
    public long coldColumnFiles(final ColdColumnFiles columns) {
        long read = 0;
        for (final Path file : columns.files) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                read += PageCache.readAll(channel, block, file);
            } catch (final IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e, e);
            }
        }
        return read;
    }

    private byte readAll(final List<TensorView> columns) {
        for (final TensorView column : columns) {
            final long size = column.byteSize();
            for (long from = 0; from < size; from += BLOCK_BYTES) {
                block.clear();
                column.copyBytesTo(from, block, Math.min(BLOCK_BYTES, size - from));
            }
        }
        return block.get(0);
    }
}
