package io.actcache.bench;

import io.actcache.codec.BlockCodec;
import io.actcache.codec.Codec;
import io.actcache.store.ActivationStore;
import io.actcache.store.CodecPolicy;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
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
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * LZ4 and SHUFFLE_LZ4 on {@link SyntheticActivations} ({@code kind}: residual streams, causal attention patterns,
 * input_ids; {@code dtype}: F32, F16, BF16, input_ids always I64), one thread: {@code compress} and
 * {@code decompress} run {@link BlockCodec} over every block of {@value #DATA_MIB} MiB (GB/s per core from
 * {@link Report#BYTES_PER_OP}); {@code rangeRead} reads {@value #RANGES} row ranges of about
 * {@value #RANGE_KIB} KiB each (every one spans several blocks and starts mid-block) at random rows of a store
 * column of that codec holding {@value #RANGE_COLUMN_COPIES} copies of the data ({@value #RANGE_COLUMN_COPIES} x
 * {@value #DATA_MIB} MiB: far more than the decompressed block pool and the CPU caches hold, so the pool cannot
 * serve repeated reads from memory; each operation reads the next of {@value #RANGE_SETS} sets of ranges, so neither
 * the pool nor the CPU caches hold what the previous operation read), page cache warm, against {@code rangeReadRaw}, the same ranges of a RAW column
 * of the same store. Block
 * size is the {@code blockKiB} parameter, so the default block size can be chosen from it. Compression ratios are
 * not timings: {@link CodecRatios} prints them for the same data.
 *
 * <p>Every operation moves {@value #DATA_MIB} MiB of raw bytes. Measured run (about 20 minutes): see
 * docs/PERFORMANCE.md; smoke run: {@code -p blockKiB=32 -p kind=attn -p dtype=F32 -f 1 -wi 1 -i 1 -w 1 -r 1}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class CodecBenchmark {
    /** Raw MiB per operation. */
    public static final int DATA_MIB = 8;
    /** Raw bytes per operation. */
    public static final long DATA_BYTES = (long) DATA_MIB << 20;
    /** Row ranges per read operation. */
    public static final int RANGES = 32;
    /** KiB per row range. */
    public static final int RANGE_KIB = DATA_MIB * 1024 / RANGES;
    /** Copies of the data in each range-read column. */
    public static final int RANGE_COLUMN_COPIES = 32;
    /** Sets of ranges the read operations cycle through, so consecutive operations read different rows. */
    private static final int RANGE_SETS = 64;

    /** Codec under test. */
    @Param({"LZ4", "SHUFFLE_LZ4"})
    public String codec;
    /** Float dtype (input_ids ignore it). */
    @Param({"F32", "F16", "BF16"})
    public String dtype;
    /** Activation kind. */
    @Param({"resid", "attn", "input_ids"})
    public String kind;
    /** Raw KiB per block: the default (32) and its neighbours (-p adds 256, the slowest range reads in run 5). */
    @Param({"16", "32", "64"})
    public int blockKiB;

    private BlockCodec blockCodec;
    private ByteBuffer[] rawBlocks;
    private ByteBuffer[] compressedBlocks;
    private ByteBuffer compressOut;
    private ByteBuffer decompressOut;
    private Path storeDir;
    private ActivationStore store;
    private long[][] ranges;
    private int nextRangeSet;
    private ByteBuffer rangeOut;

    /** Generates the data, compresses it once for {@code decompress}, and writes the store for the range reads. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        final Codec chosen = Codec.valueOf(codec);
        final Tensor data = SyntheticActivations.of(kind, DType.valueOf(dtype), DATA_BYTES, 42);
        final int blockSize = blockKiB << 10;
        blockCodec = new BlockCodec(chosen, data.view().dtype(), blockSize);
        final ByteBuffer raw = data.buffer();
        final int blocks = (int) ((raw.capacity() + blockSize - 1) / blockSize);
        rawBlocks = new ByteBuffer[blocks];
        compressedBlocks = new ByteBuffer[blocks];
        compressOut = ByteBuffer.allocateDirect(BlockCodec.maxCompressedLength(blockSize));
        decompressOut = ByteBuffer.allocateDirect(blockSize);
        for (int b = 0; b < blocks; b++) {
            rawBlocks[b] = raw.slice(b * blockSize, Math.min(blockSize, raw.capacity() - b * blockSize));
            final int length = blockCodec.compress(rawBlocks[b], rawBlocks[b].capacity(), compressOut.clear());
            compressedBlocks[b] = ByteBuffer.allocateDirect(length).put(compressOut.slice(0, length)).flip();
        }
        storeDir = Files.createTempDirectory("actcache-codec-bench");
        store = ActivationStore.create(storeDir.resolve("store"), StoreOptions.builder().durability(Durability.NONE)
            .compressionBlockSize(blockSize).codecPolicy(CodecPolicy.builder().prefix("compressed", chosen).build())
            .build());
        try (ActivationStore.Batch batch = store.batch()) {
            for (int copy = 0; copy < RANGE_COLUMN_COPIES; copy++) {
                batch.append("compressed", data).append("raw", data);
            }
            batch.commit();
        }
        final long rows = data.view().shape().dim(0) * RANGE_COLUMN_COPIES;
        final long rowBytes = data.view().byteSize() / data.view().shape().dim(0);
        final long rangeRows = Math.max(1, (RANGE_KIB * 1024L) / rowBytes);
        ranges = new long[RANGES * RANGE_SETS][2];
        final java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int i = 0; i < ranges.length; i++) {
            final long from = random.nextLong(Math.max(1, rows - rangeRows));
            ranges[i][0] = from;
            ranges[i][1] = Math.min(rows, from + rangeRows);
        }
        rangeOut = ByteBuffer.allocateDirect((int) (rangeRows * rowBytes));
    }

    /** Closes and deletes the store. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        store.close();
        BenchFiles.deleteTree(storeDir);
    }

    /** Compresses every block. */
    @Benchmark
    public long compress() {
        long total = 0;
        for (final ByteBuffer block : rawBlocks) {
            total += blockCodec.compress(block, block.capacity(), compressOut.clear());
        }
        return total;
    }

    /** Decompresses every block (length checked as the store checks it). */
    @Benchmark
    public void decompress(final Blackhole blackhole) {
        for (int b = 0; b < compressedBlocks.length; b++) {
            final String problem = blockCodec.decompress(compressedBlocks[b], compressedBlocks[b].capacity(),
                decompressOut, rawBlocks[b].capacity());
            if (problem != null) {
                throw new IllegalStateException(problem);
            }
        }
        blackhole.consume(decompressOut);
    }

    /** Reads the row ranges from the compressed column. */
    @Benchmark
    public void rangeRead(final Blackhole blackhole) {
        read(store.get("compressed"), blackhole);
    }

    /** Reads the same row ranges from the RAW column. */
    @Benchmark
    public void rangeReadRaw(final Blackhole blackhole) {
        read(store.get("raw"), blackhole);
    }

    private void read(final TensorView column, final Blackhole blackhole) {
        final int first = nextRangeSet * RANGES;
        nextRangeSet = (nextRangeSet + 1) % RANGE_SETS;
        for (int i = first; i < first + RANGES; i++) {
            final long[] range = ranges[i];
            final TensorView rows = column.rows(range[0], range[1]);
            rows.copyTo(rangeOut.clear());
            blackhole.consume(rangeOut);
        }
    }
}
