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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The larger-than-RAM benchmark of issue 9 (not JMH, not in CI; run by {@code bench/larger-than-ram.sh} in a JVM
 * with {@code -Xmx512m}): writes a store of 1.5x the machine's RAM ({@code MemTotal} of {@code /proc/meminfo})
 * through the API, then reads one key front to back in row blocks, and reports that read's throughput as a
 * fraction of a cold sequential read of the same key's column file measured in the same run (interleaved pairs,
 * median ratio), with the peak resident set size ({@code VmHWM}) of the write and of the reads. Results go to a
 * JSON file.
 *
 * <p>Design note: with the default one key, the key read holds the whole store, so it cannot fit in the page
 * cache whatever was cached before. The page cache is dropped before each read when this process may (root);
 * otherwise the baseline reads with {@code O_DIRECT} and the JSON says so ({@code coldBy}). The peak RSS of
 * the read phase is measured from a reset ({@code echo 5 > /proc/self/clear_refs}) after the write phase; it
 * counts the mapped file pages the read touched, which the kernel may reclaim, as well as the heap and direct
 * buffers. Every block's first value is checked against what was written.
 *
 * <p>Options: {@code --gib N} (store size instead of 1.5x RAM, e.g. 2 for a smoke run), {@code --dir DIR}
 * (default {@code java.io.tmpdir/actcache-larger-than-ram}), {@code --keys K} (default 1; every commit appends
 * one batch to each key, key 0 is read), {@code --batch-mib M} (default 64), {@code --block-mib M} (read block
 * and baseline request size, default 64), {@code --max-mapped-mib M} (bound the reader's mappings, in chunks of a
 * quarter of it; default: the store's defaults, what a user gets), {@code --repeat N} (interleaved pairs of
 * baseline and store reads, default 3; the ratio reported is the median of the pairs'), {@code --out FILE} (default
 * {@code larger-than-ram.json}), {@code --keep} (keep the store).
 */
public final class LargerThanRam {
    /** Width of a row: the F32 residual stream of GPT-2 small. */
    public static final int ROW_WIDTH = 768;
    /** Store size as a multiple of RAM by default. */
    public static final double RAM_FACTOR = 1.5;

    private static final long MIB = 1L << 20;
    private static final long ROW_BYTES = ROW_WIDTH * 4L;

    private final Path dir;
    private final long ramBytes;
    private final long targetBytes;
    private final int keys;
    private final long batchRows;
    private final long blockRows;
    private final int requestBytes;
    private final StoreOptions readOptions;
    private final int repeats;
    private final Map<String, Object> results = new LinkedHashMap<>();

    private LargerThanRam(final Path dir, final long ramBytes, final long targetBytes, final int keys,
        final long batchMiB, final long blockMiB, final StoreOptions readOptions, final int repeats) {
        this.readOptions = readOptions;
        this.repeats = repeats;
        this.dir = dir;
        this.ramBytes = ramBytes;
        this.targetBytes = targetBytes;
        this.keys = keys;
        this.batchRows = batchMiB * MIB / ROW_BYTES;
        this.blockRows = blockMiB * MIB / ROW_BYTES;
        this.requestBytes = Math.toIntExact(blockMiB * MIB);
    }

    /**
     * @param args options, see the class comment.
     * @throws IOException when the results cannot be written.
     */
    public static void main(final String[] args) throws IOException {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "actcache-larger-than-ram");
        Path out = Path.of("larger-than-ram.json");
        double gib = 0;
        int keys = 1;
        long batchMiB = 64;
        long blockMiB = 64;
        boolean keep = false;
        long maxMappedMiB = 0;
        int repeats = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--gib": gib = Double.parseDouble(value(args, ++i)); break;
                case "--dir": dir = Path.of(value(args, ++i)); break;
                case "--keys": keys = Integer.parseInt(value(args, ++i)); break;
                case "--batch-mib": batchMiB = Long.parseLong(value(args, ++i)); break;
                case "--block-mib": blockMiB = Long.parseLong(value(args, ++i)); break;
                case "--out": out = Path.of(value(args, ++i)); break;
                case "--keep": keep = true; break;
                case "--max-mapped-mib": maxMappedMiB = Long.parseLong(value(args, ++i)); break;
                case "--repeat": repeats = Integer.parseInt(value(args, ++i)); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]
                    + "; options: --gib N --dir DIR --keys K --batch-mib M --block-mib M --max-mapped-mib M"
                    + " --repeat N --out FILE --keep");
            }
        }
        if (keys < 1 || batchMiB < 1 || blockMiB < 1 || repeats < 1 || gib < 0) {
            throw new IllegalArgumentException(
                "--keys, --batch-mib, --block-mib and --repeat must be >= 1, --gib >= 0");
        }
        final long ram = memTotalBytes();
        final long target = gib > 0 ? (long) (gib * (1L << 30)) : (long) (RAM_FACTOR * ram);
        if (Files.exists(dir)) {
            throw new IllegalArgumentException(dir + " exists; remove it or pass another --dir");
        }
        Files.createDirectories(dir);
        final LargerThanRam run = new LargerThanRam(dir, ram, target, keys, batchMiB, blockMiB,
            readOptions(maxMappedMiB), repeats);
        try {
            run.run();
        } finally {
            if (!keep) {
                BenchFiles.deleteTree(dir);
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, run.json(), StandardCharsets.UTF_8);
        System.out.println(run.json());
        System.out.println("results written to " + out);
    }

    /** The reader's options: the defaults, or mappings bounded to {@code maxMappedMiB} in chunks of a quarter. */
    private static StoreOptions readOptions(final long maxMappedMiB) {
        if (maxMappedMiB == 0) {
            return StoreOptions.defaults();
        }
        final long bytes = maxMappedMiB * MIB;
        final long chunk = Math.max(StoreOptions.MIN_CHUNK_SIZE,
            Math.min(StoreOptions.MAX_CHUNK_SIZE, Long.highestOneBit(Math.max(1, bytes / 4))));
        return StoreOptions.builder().chunkSize(chunk).maxMappedBytes(bytes).build();
    }

    private static String value(final String[] args, final int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException("option " + args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private void run() {
        BenchFiles.requireFreeSpace(dir, targetBytes);
        final Path store = dir.resolve("store");
        results.put("timestamp", Instant.now().toString());
        results.put("ramBytes", ramBytes);
        results.put("jdk", Runtime.version().toString());
        results.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        results.put("keys", keys);
        results.put("rowShape", "[rows, " + ROW_WIDTH + "] F32");
        final String key = write(store);
        final String coldBy = PageCache.coldReadMethod();
        results.put("coldBy", coldBy);
        final Path columnFile;
        final long keyBytes;
        try (ActivationStore reader = ActivationStore.openReadOnly(store)) {
            columnFile = reader.columnFile(key);
            keyBytes = reader.get(key).byteSize();
        }
        results.put("readKey", key);
        results.put("readKeyBytes", keyBytes);
        results.put("blockRows", blockRows);
        results.put("blockBytes", blockRows * ROW_BYTES);
        results.put("baselineRequestBytes", requestBytes);
        results.put("readerChunkBytes", readOptions.chunkSize());
        results.put("readerMaxMappedBytes", readOptions.maxMappedBytes());
        final List<Double> baselines = new ArrayList<>();
        final List<Double> reads = new ArrayList<>();
        final List<Double> ratios = new ArrayList<>();
        final boolean reset = resetPeakRss();
        for (int i = 0; i < repeats; i++) {
            // Interleaved pairs, so a change in the machine's load hits both sides alike.
            baselines.add(baselineRead(columnFile, coldBy));
            reads.add(storeRead(store, key, coldBy));
            ratios.add(reads.get(i) / baselines.get(i));
        }
        results.put("baselineGBps", baselines);
        results.put("readGBps", reads);
        results.put("readVsColdSequentialReadPerPair", ratios);
        results.put("readVsColdSequentialRead", median(ratios));
        results.put("readVsColdSequentialReadOfBest", Collections.max(reads) / Collections.max(baselines));
        results.put("readPeakRssBytes", status("VmHWM"));
        results.put("readPeakRssFrom", reset ? "reset before the reads" : "process start (clear_refs refused)");
        results.put("rssAnonAfterReadsBytes", status("RssAnon"));
        System.out.printf(Locale.ROOT, "read / cold sequential read: median %.3f of %d pairs; peak RSS of the reads "
            + "%d MiB%n", median(ratios), repeats, status("VmHWM") >> 20);
    }

    /** Writes the store; returns the key that is read. */
    private String write(final Path store) {
        final Tensor batch = Tensor.allocate(DType.F32, Shape.of(batchRows, ROW_WIDTH));
        for (long i = 0; i < batch.shape().elementCount(); i++) {
            batch.setFloat(i, expected(i / ROW_WIDTH, i % ROW_WIDTH));
        }
        final TensorView view = batch.view();
        final long commitBytes = view.byteSize() * keys;
        final long commits = Math.max(1, (targetBytes + commitBytes - 1) / commitBytes);
        final long start = System.nanoTime();
        try (ActivationStore writer = ActivationStore.create(store,
            StoreOptions.builder().durability(Durability.PROCESS).build())) {
            for (long c = 0; c < commits; c++) {
                try (ActivationStore.Batch commit = writer.batch()) {
                    for (int k = 0; k < keys; k++) {
                        commit.append(key(k), view);
                    }
                    commit.commit();
                }
            }
        }
        final long written = System.nanoTime();
        BenchFiles.forceFiles(store.resolve("columns"));
        final double seconds = (written - start) / 1e9;
        final long bytes = commits * commitBytes;
        results.put("storeBytes", bytes);
        results.put("storeVsRam", bytes / (double) ramBytes);
        results.put("commits", commits);
        results.put("writeSeconds", seconds);
        results.put("writeGBps", bytes / seconds / 1e9);
        results.put("forceSeconds", (System.nanoTime() - written) / 1e9);
        results.put("writePeakRssBytes", status("VmHWM"));
        System.out.printf(Locale.ROOT, "wrote %.2f GiB in %d commits: %.2f GB/s%n", bytes / (double) (1L << 30),
            commits, bytes / seconds / 1e9);
        return key(0);
    }

    /** The cold sequential read of the column file; returns GB/s. */
    private double baselineRead(final Path columnFile, final String coldBy) {
        final ByteBuffer buffer = PageCache.alignedBuffer(requestBytes);
        PageCache.prepare(coldBy);
        final long start = System.nanoTime();
        final long bytes;
        try (FileChannel channel = PageCache.openForRead(columnFile, coldBy)) {
            bytes = PageCache.readAll(channel, buffer, columnFile);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot close " + columnFile + ": " + e, e);
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        results.put("baselineBytes", bytes);
        System.out.printf(Locale.ROOT, "cold sequential read (%s) of %s: %.2f GB/s%n", coldBy, columnFile,
            bytes / seconds / 1e9);
        return bytes / seconds / 1e9;
    }

    /** Reads the key in row blocks through the API, checking each block's first value; returns GB/s. */
    private double storeRead(final Path store, final String key, final String coldBy) {
        final ByteBuffer block = ByteBuffer.allocateDirect(Math.toIntExact(blockRows * ROW_BYTES))
            .order(ByteOrder.LITTLE_ENDIAN);
        if (PageCache.DROP_CACHES.equals(coldBy)) {
            PageCache.drop();
        }
        final long start = System.nanoTime();
        long bytes = 0;
        try (ActivationStore reader = ActivationStore.openReadOnly(store, readOptions)) {
            final TensorView column = reader.get(key);
            final long rows = column.shape().dim(0);
            for (long from = 0; from < rows; from += blockRows) {
                final TensorView rowBlock = column.rows(from, Math.min(rows, from + blockRows));
                block.clear();
                rowBlock.copyTo(block);
                bytes += rowBlock.byteSize();
                final float first = block.getFloat(0);
                if (first != expected(from % batchRows, 0)) {
                    throw new IllegalStateException("row " + from + " of key " + key + " in " + store + " reads "
                        + first + ", was written as " + expected(from % batchRows, 0));
                }
            }
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        results.put("readBytes", bytes);
        System.out.printf(Locale.ROOT, "read of %s in %d-row blocks: %.2f GB/s, peak RSS %d MiB%n", key, blockRows,
            bytes / seconds / 1e9, status("VmHWM") >> 20);
        return bytes / seconds / 1e9;
    }

    private static double median(final List<Double> values) {
        final List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        final int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static float expected(final long row, final long column) {
        return (row % 9973) + column * 1e-3f;
    }

    private static String key(final int k) {
        return "blocks." + k + ".hook_resid_post";
    }

    /** @return MemTotal of /proc/meminfo, bytes. */
    static long memTotalBytes() {
        return kibField(Path.of("/proc/meminfo"), "MemTotal");
    }

    /** @return a kB field of /proc/self/status, bytes. */
    static long status(final String field) {
        return kibField(Path.of("/proc/self/status"), field);
    }

    private static long kibField(final Path file, final String field) {
        try {
            for (final String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim()) << 10;
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
        throw new IllegalStateException(file + " has no field " + field);
    }

    /** Resets VmHWM to the current RSS (Linux 4.0+); false when the kernel refuses. */
    private static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5\n", StandardCharsets.US_ASCII);
            return true;
        } catch (final IOException e) {
            return false;
        }
    }

    private String json() {
        final StringBuilder out = new StringBuilder("{\n");
        String separator = "";
        for (final Map.Entry<String, Object> entry : results.entrySet()) {
            final Object value = entry.getValue();
            final String text;
            if (value instanceof String) {
                text = '"' + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + '"';
            } else if (value instanceof List) {
                text = ((List<?>) value).stream().map(v -> number(v)).collect(Collectors.joining(", ", "[", "]"));
            } else {
                text = number(value);
            }
            out.append(separator).append("  \"").append(entry.getKey()).append("\": ").append(text);
            separator = ",\n";
        }
        return out.append("\n}\n").toString();
    }

    private static String number(final Object value) {
        return value instanceof Double ? String.format(Locale.ROOT, "%.6g", (Double) value) : value.toString();
    }
}
