package io.actcache.bench;

import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.agrona.IoUtil;
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
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * Appending F32 batches of {@code batchKiB} KiB ({@code [batchKiB / 4, 1024]}) to one store column with
 * durability NONE, against the same bytes put (1) into already-faulted off-heap memory and (2) into a fresh file
 * by raw positional channel writes of the same batches (2a) or through a mapping of a file preallocated to its
 * final length (2b). Beside them, durable writing: the same bytes appended in one commit of a store with
 * durability FSYNC ({@code storeSynced}) against a sequential disk write followed by one fsync
 * ({@code syncedWrite}), both in 4 MiB batches.
 *
 * <p>Design note: every measured invocation writes {@value #INVOCATION_MIB} MiB into a target made fresh before
 * it and deleted after it, outside the timing, so every contender grows a new file the same way and pays the
 * same first touch of fresh pages; a smaller batch means more appends (4,096 commits at 64 KiB). Scores are
 * milliseconds per invocation; {@link Report} turns them into bytes per second and ratios at equal
 * {@code batchKiB}. Full run: {@code batchKiB=64,1024,4096,65536}, 2 forks x (4 warm-up + 10 measured) shots
 * (about 4 minutes); {@code --quick} should use {@code -p batchKiB=64,4096}, 1 fork, 2 + 4 shots (about 40 s).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(2)
@Warmup(iterations = 4)
@Measurement(iterations = 10)
public class AppendBenchmark {
    /** Name of the batch-size parameter. */
    public static final String BATCH_KIB = "batchKiB";
    /** MiB one invocation writes. */
    public static final int INVOCATION_MIB = 256;
    /** Bytes one invocation writes. */
    public static final long INVOCATION_BYTES = (long) INVOCATION_MIB << 20;
    /** Width of a row: 1,024 F32 values, 4 KiB, so every batch size is whole rows. */
    public static final int ROW_WIDTH = 1024;
    /** Batch size of the durable pair, KiB. */
    public static final int SYNCED_BATCH_KIB = 4096;

    private static final String KEY = "blocks.0.hook_resid_post";

    /** The batch every contender writes: a direct tensor of non-zero floats. */
    @State(Scope.Benchmark)
    public static class Source {
        /** Bytes of one batch, KiB. */
        @Param({"64", "1024", "4096", "65536"})
        public int batchKiB;
        int batches;
        Tensor tensor;
        TensorView view;
        ByteBuffer bytes;

        /** Fills the batch. */
        @Setup(Level.Trial)
        public void fill() {
            if (batchKiB < 4 || batchKiB % 4 != 0 || INVOCATION_BYTES % ((long) batchKiB << 10) != 0) {
                throw new IllegalArgumentException("batchKiB must be a multiple of 4 dividing " + INVOCATION_MIB
                    + " MiB, not " + batchKiB);
            }
            batches = (int) (INVOCATION_BYTES / ((long) batchKiB << 10));
            tensor = batch(batchKiB);
            view = tensor.view();
            bytes = tensor.buffer();
        }
    }

    /** The durable pair's batch: 4 MiB. */
    @State(Scope.Benchmark)
    public static class SyncedSource {
        int batches;
        Tensor tensor;
        TensorView view;
        ByteBuffer bytes;

        /** Fills the batch. */
        @Setup(Level.Trial)
        public void fill() {
            batches = (int) (INVOCATION_BYTES / ((long) SYNCED_BATCH_KIB << 10));
            tensor = batch(SYNCED_BATCH_KIB);
            view = tensor.view();
            bytes = tensor.buffer();
        }
    }

    private static Tensor batch(final int kib) {
        final Shape shape = Shape.of(((long) kib << 10) / 4 / ROW_WIDTH, ROW_WIDTH);
        final Tensor tensor = Tensor.allocate(DType.F32, shape);
        for (long i = 0; i < shape.elementCount(); i++) {
            tensor.setFloat(i, (i % 9973) * 0.001f + 1);
        }
        return tensor;
    }

    /** Ours: a new store with durability NONE. */
    @State(Scope.Thread)
    public static class StoreTarget {
        Path dir;
        ActivationStore store;

        /** Creates the store. */
        @Setup(Level.Iteration)
        public void create() {
            dir = BenchFiles.newDirectory("actcache-bench-append-");
            store = ActivationStore.create(dir.resolve("store"),
                StoreOptions.builder().durability(Durability.NONE).build());
        }

        /** Closes and deletes the store. */
        @TearDown(Level.Iteration)
        public void delete() {
            store.close();
            BenchFiles.deleteTree(dir);
        }
    }

    /** Ours, durable: a new store with durability FSYNC. */
    @State(Scope.Thread)
    public static class SyncedStoreTarget {
        Path dir;
        ActivationStore store;

        /** Creates the store. */
        @Setup(Level.Iteration)
        public void create() {
            dir = BenchFiles.newDirectory("actcache-bench-synced-");
            store = ActivationStore.create(dir.resolve("store"),
                StoreOptions.builder().durability(Durability.FSYNC).build());
        }

        /** Closes and deletes the store. */
        @TearDown(Level.Iteration)
        public void delete() {
            store.close();
            BenchFiles.deleteTree(dir);
        }
    }

    /** Baselines 2a and 3: a new empty file, written with positional channel writes. */
    @State(Scope.Thread)
    public static class ChannelTarget {
        Path dir;
        FileChannel channel;

        /**
         * Creates the file.
         *
         * @throws IOException when it cannot.
         */
        @Setup(Level.Iteration)
        public void create() throws IOException {
            dir = BenchFiles.newDirectory("actcache-bench-channel-");
            channel = FileChannel.open(dir.resolve("data"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }

        /**
         * Closes and deletes the file.
         *
         * @throws IOException when it cannot.
         */
        @TearDown(Level.Iteration)
        public void delete() throws IOException {
            channel.close();
            BenchFiles.deleteTree(dir);
        }
    }

    /** Baseline 2b: a new file set to its final length (sparse) and mapped whole; its pages are not touched yet. */
    @State(Scope.Thread)
    public static class MappedTarget {
        Path dir;
        FileChannel channel;
        MappedByteBuffer mapping;

        /**
         * Creates, sizes and maps the file.
         *
         * @throws IOException when it cannot.
         */
        @Setup(Level.Iteration)
        public void create() throws IOException {
            dir = BenchFiles.newDirectory("actcache-bench-mapped-");
            channel = FileChannel.open(dir.resolve("data"), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
            mapping = channel.map(FileChannel.MapMode.READ_WRITE, 0, INVOCATION_BYTES);
        }

        /**
         * Unmaps, closes and deletes the file.
         *
         * @throws IOException when it cannot.
         */
        @TearDown(Level.Iteration)
        public void delete() throws IOException {
            IoUtil.unmap(mapping);
            channel.close();
            BenchFiles.deleteTree(dir);
        }
    }

    /** Baseline 1: off-heap memory for all batches, faulted in once per trial. */
    @State(Scope.Thread)
    public static class MemoryTarget {
        ByteBuffer memory;

        /** Allocates the memory; {@code allocateDirect} zeroes it, which faults in every page. */
        @Setup(Level.Trial)
        public void allocate() {
            memory = ByteBuffer.allocateDirect((int) INVOCATION_BYTES);
        }
    }

    /**
     * Ours: appends every batch to one column, one commit each.
     *
     * @param source the batch.
     * @param target a new store.
     * @return the store's byte count, so nothing is optimised away.
     */
    @Benchmark
    public long store(final Source source, final StoreTarget target) {
        for (int i = 0; i < source.batches; i++) {
            target.store.append(KEY, source.view);
        }
        return target.store.bytesWritten();
    }

    /**
     * Baseline 2a: positional channel writes of every batch, appending to a fresh file.
     *
     * @param source the batch.
     * @param target a new empty file.
     * @return bytes written.
     * @throws IOException when a write fails.
     */
    @Benchmark
    public long channelWrite(final Source source, final ChannelTarget target) throws IOException {
        return writeAll(source.bytes, source.batches, target.channel);
    }

    /**
     * Baseline 2b: copies every batch into a mapping of a fresh file preallocated to its final length.
     *
     * @param source the batch.
     * @param target the mapped file.
     * @return a byte of the mapping.
     */
    @Benchmark
    public byte mappedWrite(final Source source, final MappedTarget target) {
        return copyAll(source.bytes, source.batches, target.mapping);
    }

    /**
     * Baseline 1: copies every batch into already-faulted off-heap memory.
     *
     * @param source the batch.
     * @param target the memory.
     * @return a byte of the memory.
     */
    @Benchmark
    public byte memoryCopy(final Source source, final MemoryTarget target) {
        return copyAll(source.bytes, source.batches, target.memory);
    }

    /**
     * Ours, durable: every batch appended in one commit of a store with durability FSYNC, which forces the data,
     * then the journal record, to the device.
     *
     * @param source the 4 MiB batch.
     * @param target a new FSYNC store.
     * @return the store's byte count.
     */
    @Benchmark
    @Fork(1)
    @Warmup(iterations = 2)
    @Measurement(iterations = 8)
    public long storeSynced(final SyncedSource source, final SyncedStoreTarget target) {
        try (ActivationStore.Batch batch = target.store.batch()) {
            for (int i = 0; i < source.batches; i++) {
                batch.append(KEY, source.view);
            }
            batch.commit();
        }
        return target.store.bytesWritten();
    }

    /**
     * Baseline 3: sequential disk write with fsync, the same bytes by positional channel writes into a fresh file,
     * then one {@code force(true)}.
     *
     * @param source the 4 MiB batch.
     * @param target a new empty file.
     * @return bytes written.
     * @throws IOException when a write or the force fails.
     */
    @Benchmark
    @Fork(1)
    @Warmup(iterations = 2)
    @Measurement(iterations = 8)
    public long syncedWrite(final SyncedSource source, final ChannelTarget target) throws IOException {
        final long written = writeAll(source.bytes, source.batches, target.channel);
        target.channel.force(true);
        return written;
    }

    private static long writeAll(final ByteBuffer batch, final int batches, final FileChannel channel)
        throws IOException {
        long position = 0;
        for (int i = 0; i < batches; i++) {
            final ByteBuffer bytes = batch.duplicate();
            while (bytes.hasRemaining()) {
                position += channel.write(bytes, position);
            }
        }
        return position;
    }

    private static byte copyAll(final ByteBuffer batch, final int batches, final ByteBuffer target) {
        final int length = batch.remaining();
        for (int i = 0; i < batches; i++) {
            target.put(i * length, batch, batch.position(), length);
        }
        return target.get((int) INVOCATION_BYTES - 1);
    }
}
