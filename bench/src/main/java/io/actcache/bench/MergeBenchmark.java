package io.actcache.bench;

import io.actcache.cache.ActivationCache;
import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Merging {@code batches} GPT-2-small-shaped batch caches, one after another, four ways: the reference pattern
 * ({@link ReferenceMerge}: a new array per key per {@code cat}, O(N^2) bytes copied), the deferred pattern
 * (collect every batch, then one concatenation per key), and ours, {@link ActivationCache#cat} into a heap cache
 * and into a store-backed cache (one atomic commit per batch). Beside them the baseline the store is judged on:
 * the same bytes appended to one fresh file per key with raw positional channel writes.
 *
 * <p>A batch is 12 keys {@code blocks.L.hook_resid_post} of F32 {@code [8, 128, 768]} plus {@code input_ids}
 * (I64 {@code [8, 128]}, kept as a list as the reference's defaults say): 37.8 MB. Every measured invocation
 * merges all batches into a target made fresh before it and dropped after it, outside the timing. Scores are
 * seconds per invocation; {@link Report} divides by the bytes merged for ns per byte and compares contenders at
 * equal {@code batches}. The store and the raw baseline are judged against each other, so their shots are made
 * alike: every fork of the two first runs the same {@link JitWarmUp}, and every shot of either is preceded, outside
 * the timing, by the same {@link #precedingRawShot}.
 *
 * <p>The store and the raw files are written to disk and to {@code /dev/shm} ({@code storage}): past the kernel's
 * dirty-page limit a disk run is bound by writeback, which hides whether our cost per batch stays flat; tmpfs shows
 * our own cost. The store uses durability {@code PROCESS}: every commit survives a killed JVM, without forcing to disk,
 * which none of the in-memory contenders nor the raw baseline do either. The heap needs room for the largest
 * merge (4.8 GB at 128 batches) twice over, hence the fork's heap.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgs = {"-Xms12g", "-Xmx12g", "-XX:MaxDirectMemorySize=12g", "-XX:+UseParallelGC"})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@State(Scope.Benchmark)
public class MergeBenchmark {
    /** Layers of GPT-2 small: keys of F32 activations per batch. */
    public static final int LAYERS = 12;
    /** Shape of one activation key of one batch: 8 prompts of 128 tokens, d_model 768. */
    public static final Shape ACTIVATION_SHAPE = Shape.of(8, 128, 768);
    /** Shape of a batch's token ids. */
    public static final Shape IDS_SHAPE = Shape.of(8, 128);
    /** Bytes of one batch, every key. */
    public static final long BATCH_BYTES = LAYERS * ACTIVATION_SHAPE.byteSize(DType.F32)
        + IDS_SHAPE.byteSize(DType.I64);
    /** Name of the benchmark parameter holding the number of batches merged. */
    public static final String BATCHES = "batches";

    private static final String IDS_KEY = "input_ids";

    /** Number of batches merged per invocation. */
    @Param({"16", "64", "128"})
    public int batches;

    /** One batch, as a heap cache (ours) and as heap arrays (the reference's tensors). */
    @State(Scope.Benchmark)
    public static class Batch {
        ActivationCache cache;
        Map<String, byte[]> arrays;
        Map<String, ByteBuffer> buffers;

        /** Fills every key with non-zero values. */
        @Setup(Level.Trial)
        public void fill() {
            cache = ActivationCache.onHeap();
            arrays = new LinkedHashMap<>();
            buffers = new LinkedHashMap<>();
            for (int layer = 0; layer < LAYERS; layer++) {
                final Tensor tensor = Tensor.allocate(DType.F32, ACTIVATION_SHAPE);
                for (long i = 0; i < ACTIVATION_SHAPE.elementCount(); i++) {
                    tensor.setFloat(i, (i % 9973) * 0.001f - layer);
                }
                add(activationKey(layer), tensor);
            }
            final Tensor ids = Tensor.allocate(DType.I64, IDS_SHAPE);
            for (long i = 0; i < IDS_SHAPE.elementCount(); i++) {
                ids.setLong(i, i % 50257);
            }
            add(IDS_KEY, ids);
        }

        private void add(final String key, final Tensor tensor) {
            cache.put(key, tensor);
            final ByteBuffer bytes = tensor.buffer().duplicate();
            final byte[] array = new byte[bytes.remaining()];
            bytes.duplicate().get(array);
            arrays.put(key, array);
            buffers.put(key, bytes);
        }

        /** Closes the batch cache. */
        @TearDown(Level.Trial)
        public void close() {
            cache.close();
        }
    }

    /**
     * The same warm-up in every fork of {@link #oursStore} and {@link #rawAppend}, before the first warm-up shot:
     * {@value #WARM_UP_SHOTS} merges of 16 batches into fresh stores and as many raw appends, on tmpfs. The store's
     * code path is large (the merge, the commit protocol, Chronicle Map's generated query code, the checksums), and
     * C2 keeps compiling it for ~700 commits: a shot of 16 merges still carried 100-470 ms of compilation on the
     * second core after 20-30 shots, against a raw append's loop that is compiled after one. JMH's own warm-up
     * shots would take minutes at N = 128 to reach that; this reaches it in seconds, identically for both.
     */
    @State(Scope.Benchmark)
    public static class JitWarmUp {
        /** Warm-up shots of 16 merges, each into a fresh store (and as many raw appends). */
        static final int WARM_UP_SHOTS = 50;
        private static final int WARM_UP_BATCHES = 16;

        /**
         * Runs the warm-up.
         *
         * @param batch the batch every shot merges.
         * @throws IOException when a raw append fails.
         */
        @Setup(Level.Trial)
        public void warmUp(final Batch batch) throws IOException {
            final String storage = Files.isDirectory(Path.of("/dev/shm")) ? BenchFiles.MEMORY : BenchFiles.DISK;
            for (int shot = 0; shot < WARM_UP_SHOTS; shot++) {
                final StoreTarget store = new StoreTarget();
                store.storage = storage;
                store.create();
                for (int i = 0; i < WARM_UP_BATCHES; i++) {
                    store.cache.cat(batch.cache);
                }
                store.delete();
                precedingRawShot(batch, WARM_UP_BATCHES, storage);
            }
        }
    }

    /** Ours: a new store-backed cache. */
    @State(Scope.Thread)
    public static class StoreTarget {
        /** Where the store lives: {@code disk} (java.io.tmpdir) or {@code memory} (/dev/shm). */
        @Param({BenchFiles.DISK, BenchFiles.MEMORY})
        public String storage;
        Path dir;
        ActivationStore store;
        ActivationCache cache;

        /** Creates the store. */
        public void create() {
            dir = BenchFiles.newDirectory("actcache-bench-merge-", storage);
            store = ActivationStore.create(dir.resolve("store"),
                StoreOptions.builder().durability(Durability.PROCESS).build());
            cache = ActivationCache.over(store);
        }

        /**
         * Before each shot, outside the timing: {@link #precedingRawShot}, then {@link #create}.
         *
         * @param benchmark the benchmark, for its number of batches.
         * @param batch     the batch the shots merge.
         * @throws IOException when the preceding raw shot fails.
         */
        @Setup(Level.Iteration)
        public void prepare(final MergeBenchmark benchmark, final Batch batch) throws IOException {
            precedingRawShot(batch, benchmark.batches, storage);
            create();
        }

        /** Closes and deletes the store, and lets the file system settle ({@link #settle}). */
        @TearDown(Level.Iteration)
        public void delete() {
            cache.close();
            store.close();
            settle(dir);
        }
    }

    /** Baseline: one fresh empty file per key, appended to with positional channel writes. */
    @State(Scope.Thread)
    public static class RawFiles {
        /** Where the files live, as for {@link StoreTarget#storage}. */
        @Param({BenchFiles.DISK, BenchFiles.MEMORY})
        public String storage;
        Path dir;
        List<FileChannel> channels;
        long[] positions;

        /**
         * Creates the files.
         *
         * @throws IOException when it cannot.
         */
        public void create() throws IOException {
            dir = BenchFiles.newDirectory("actcache-bench-merge-raw-", storage);
            channels = new ArrayList<>();
            for (int key = 0; key <= LAYERS; key++) {
                channels.add(FileChannel.open(dir.resolve("key" + key), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE));
            }
            positions = new long[channels.size()];
        }

        /**
         * Before each shot, outside the timing: {@link #precedingRawShot}, then {@link #create}.
         *
         * @param benchmark the benchmark, for its number of batches.
         * @param batch     the batch the shots append.
         * @throws IOException when a file cannot be made or the preceding raw shot fails.
         */
        @Setup(Level.Iteration)
        public void prepare(final MergeBenchmark benchmark, final Batch batch) throws IOException {
            precedingRawShot(batch, benchmark.batches, storage);
            create();
        }

        /**
         * Forces, closes and deletes the files. Forcing them leaves the device as closing a store does (durability
         * PROCESS checkpoints at close): both contenders' bytes went to the device before the next shot, not only
         * the store's. Without it only the store's shots sent their bytes to the device (a raw file deleted before
         * write-back never reaches it).
         *
         * @throws IOException when it cannot.
         */
        @TearDown(Level.Iteration)
        public void delete() throws IOException {
            for (final FileChannel channel : channels) {
                channel.force(true);
                channel.close();
            }
            settle(dir);
        }
    }

    /**
     * The reference pattern: {@code cat} allocates a new array per key holding the old rows and the batch's. Two
     * measured invocations and no warm-up: at 128 batches one copies about 300 GB (minutes), and a loop of array
     * copies has nothing for the JIT to warm.
     *
     * @param batch the batch merged every time.
     * @return the merged cache, so nothing is optimised away.
     */
    @Benchmark
    @Warmup(iterations = 0)
    @Measurement(iterations = 2)
    public ReferenceMerge reference(final Batch batch) {
        final ReferenceMerge merged = new ReferenceMerge();
        for (int i = 0; i < batches; i++) {
            merged.cat(batch.arrays);
        }
        return merged;
    }

    /**
     * The deferred pattern: collects every batch, then concatenates each key once into an array of its final size.
     *
     * @param batch the batch merged every time.
     * @return the merged arrays.
     */
    @Benchmark
    public Map<String, Object> deferred(final Batch batch) {
        final List<Map<String, byte[]>> collected = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            collected.add(batch.arrays);
        }
        return ReferenceMerge.concatenateOnce(collected);
    }

    /**
     * Ours on the heap: {@link ActivationCache#cat} per batch into a heap cache.
     *
     * @param batch the batch merged every time.
     * @return the merged cache's size in bytes.
     */
    @Benchmark
    public long oursHeap(final Batch batch) {
        try (ActivationCache merged = ActivationCache.onHeap()) {
            for (int i = 0; i < batches; i++) {
                merged.cat(batch.cache);
            }
            return merged.memorySize();
        }
    }

    /**
     * Ours into a store: {@link ActivationCache#cat} per batch, each an atomic commit of all 13 keys.
     *
     * @param batch  the batch merged every time.
     * @param target a new store-backed cache.
     * @param warm   the fork's JIT warm-up, done before the first shot.
     * @return the bytes the store wrote.
     */
    @Benchmark
    public long oursStore(final Batch batch, final StoreTarget target, final JitWarmUp warm) {
        for (int i = 0; i < batches; i++) {
            target.cache.cat(batch.cache);
        }
        return target.store.bytesWritten();
    }

    /**
     * Baseline: every batch's bytes appended to one file per key with positional channel writes.
     *
     * @param batch  the batch merged every time.
     * @param target new empty files.
     * @param warm   the fork's JIT warm-up, done before the first shot.
     * @return bytes written.
     * @throws IOException when a write fails.
     */
    @Benchmark
    public long rawAppend(final Batch batch, final RawFiles target, final JitWarmUp warm) throws IOException {
        return appendRaw(batch, target, batches);
    }

    static long appendRaw(final Batch batch, final RawFiles target, final int batches) throws IOException {
        long written = 0;
        for (int i = 0; i < batches; i++) {
            int key = 0;
            for (final ByteBuffer source : batch.buffers.values()) {
                final ByteBuffer bytes = source.duplicate();
                while (bytes.hasRemaining()) {
                    final int count = target.channels.get(key).write(bytes, target.positions[key]);
                    target.positions[key] += count;
                    written += count;
                }
                key++;
            }
        }
        return written;
    }

    /**
     * One raw append shot of the same size into scratch files, forced and deleted, run before every measured shot of
     * the store and of the raw baseline alike, so that both start from the same state: the one a raw append leaves,
     * which is the raw baseline's own best case. What ran just before a shot matters on this kind of machine: a raw
     * append right after a store shot took 2-3x as long as one right after a raw append, while the store's shots
     * took the same time after either ({@link AlternatingMerge}; docs/PERFORMANCE.md, section 4). JMH runs each
     * contender in its own forks, so without this each would always follow itself. {@link JitWarmUp} runs it too,
     * as its raw appends.
     */
    static void precedingRawShot(final Batch batch, final int batches, final String storage) throws IOException {
        final RawFiles scratch = new RawFiles();
        scratch.storage = storage;
        scratch.create();
        appendRaw(batch, scratch, batches);
        scratch.delete();
    }

    /**
     * Deletes a target's directory, then syncs its file system, outside the timing, so every shot of either
     * contender starts with no dirty pages, write-back or discards left by an earlier one. Both contenders have
     * forced their files by then (the store at close, the raw files in {@link RawFiles#delete}).
     */
    static void settle(final Path dir) {
        BenchFiles.deleteTree(dir);
        BenchFiles.syncFileSystem(dir.getParent());
    }

    static String activationKey(final int layer) {
        return "blocks." + layer + ".hook_resid_post";
    }

    /**
     * The reference classes' merge on plain heap arrays: {@code torch.cat([old, new])} per key per batch, which
     * allocates and fills a new tensor each time; {@code input_ids} is kept as a list, as the references' defaults
     * say.
     */
    public static final class ReferenceMerge {
        private final Map<String, byte[]> tensors = new LinkedHashMap<>();
        private final List<byte[]> ids = new ArrayList<>();

        void cat(final Map<String, byte[]> batch) {
            for (final Map.Entry<String, byte[]> entry : batch.entrySet()) {
                if (entry.getKey().equals(IDS_KEY)) {
                    ids.add(entry.getValue());
                    continue;
                }
                final byte[] old = tensors.get(entry.getKey());
                final byte[] add = entry.getValue();
                if (old == null) {
                    tensors.put(entry.getKey(), add.clone());
                } else {
                    final byte[] merged = new byte[old.length + add.length];
                    System.arraycopy(old, 0, merged, 0, old.length);
                    System.arraycopy(add, 0, merged, old.length, add.length);
                    tensors.put(entry.getKey(), merged);
                }
            }
        }

        /** @return bytes held. */
        public long bytes() {
            long total = 0;
            for (final byte[] tensor : tensors.values()) {
                total += tensor.length;
            }
            for (final byte[] batch : ids) {
                total += batch.length;
            }
            return total;
        }

        static Map<String, Object> concatenateOnce(final List<Map<String, byte[]>> batches) {
            final Map<String, Object> merged = new LinkedHashMap<>();
            for (final String key : batches.get(0).keySet()) {
                if (key.equals(IDS_KEY)) {
                    final List<byte[]> list = new ArrayList<>();
                    batches.forEach(batch -> list.add(batch.get(key)));
                    merged.put(key, list);
                    continue;
                }
                long length = 0;
                for (final Map<String, byte[]> batch : batches) {
                    length += batch.get(key).length;
                }
                final byte[] target = new byte[Math.toIntExact(length)];
                int offset = 0;
                for (final Map<String, byte[]> batch : batches) {
                    final byte[] part = batch.get(key);
                    System.arraycopy(part, 0, target, offset, part.length);
                    offset += part.length;
                }
                merged.put(key, target);
            }
            return merged;
        }
    }
}
