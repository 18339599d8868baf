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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
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
 * Appending 3 MiB F32 batches ({@code [1, 1024, 768]}) to one store column with durability NONE, against the
 * same bytes put (1) into already-faulted off-heap memory and (2) into a fresh file by raw positional channel
 * writes (2a) or through a mapping of a file preallocated to its final length (2b).
 *
 * <p>Design note: every measured invocation writes {@value #BATCHES} batches (384 MiB) into a target made fresh
 * before it and deleted after it, outside the timing, so every contender grows a new file the same way and
 * pays the same first touch of fresh pages. Scores are milliseconds per batch; {@link Report} turns them into
 * bytes per second and ratios.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(2)
@Warmup(iterations = 5)
@Measurement(iterations = 12)
public class AppendBenchmark {
    /** Batches appended per measured invocation. */
    public static final int BATCHES = 128;
    /** Shape of one batch: one sequence of 1,024 tokens of width 768. */
    public static final Shape BATCH_SHAPE = Shape.of(1, 1024, 768);
    /** Bytes of one batch: 3 MiB. */
    public static final long BATCH_BYTES = BATCH_SHAPE.byteSize(DType.F32);
    /** Bytes one invocation writes. */
    public static final long INVOCATION_BYTES = BATCHES * BATCH_BYTES;

    private static final String KEY = "blocks.0.hook_resid_post";

    /** The batch every contender writes: a direct tensor of non-zero floats. */
    @State(Scope.Benchmark)
    public static class Source {
        Tensor tensor;
        TensorView view;
        ByteBuffer bytes;

        /** Fills the batch. */
        @Setup(Level.Trial)
        public void fill() {
            tensor = Tensor.allocate(DType.F32, BATCH_SHAPE);
            for (long i = 0; i < BATCH_SHAPE.elementCount(); i++) {
                tensor.setFloat(i, i * 0.001f);
            }
            view = tensor.view();
            bytes = tensor.buffer();
        }
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

    /** Baseline 2a: a new empty file, written with positional channel writes. */
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
     * Ours: appends every batch to one column.
     *
     * @param source the batch.
     * @param target a new store.
     * @return the store's byte count, so nothing is optimised away.
     */
    @Benchmark
    @OperationsPerInvocation(BATCHES)
    public long store(final Source source, final StoreTarget target) {
        for (int i = 0; i < BATCHES; i++) {
            target.store.append(KEY, source.view);
        }
        return target.store.bytesWritten();
    }

    /**
     * Baseline 2a: positional channel writes appending to a fresh file.
     *
     * @param source the batch.
     * @param target a new empty file.
     * @return bytes written.
     * @throws IOException when a write fails.
     */
    @Benchmark
    @OperationsPerInvocation(BATCHES)
    public long channelWrite(final Source source, final ChannelTarget target) throws IOException {
        long position = 0;
        for (int i = 0; i < BATCHES; i++) {
            final ByteBuffer bytes = source.bytes.duplicate();
            while (bytes.hasRemaining()) {
                position += target.channel.write(bytes, position);
            }
        }
        return position;
    }

    /**
     * Baseline 2b: copies into a mapping of a fresh file preallocated to its final length.
     *
     * @param source the batch.
     * @param target the mapped file.
     * @return a byte of the mapping.
     */
    @Benchmark
    @OperationsPerInvocation(BATCHES)
    public byte mappedWrite(final Source source, final MappedTarget target) {
        return copyAll(source.bytes, target.mapping);
    }

    /**
     * Baseline 1: copies into already-faulted off-heap memory.
     *
     * @param source the batch.
     * @param target the memory.
     * @return a byte of the memory.
     */
    @Benchmark
    @OperationsPerInvocation(BATCHES)
    public byte memoryCopy(final Source source, final MemoryTarget target) {
        return copyAll(source.bytes, target.memory);
    }

    private static byte copyAll(final ByteBuffer batch, final ByteBuffer target) {
        final int length = (int) BATCH_BYTES;
        for (int i = 0; i < BATCHES; i++) {
            target.put(i * length, batch, 0, length);
        }
        return target.get((int) INVOCATION_BYTES - 1);
    }
}
