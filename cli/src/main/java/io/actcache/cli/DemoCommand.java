package io.actcache.cli;

import io.actcache.CorruptFileException;
import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreFiles;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code actcache demo}: the main job end to end. Writes a GPT-2-small-shaped activation run larger than the JVM
 * heap into a store, one atomic multi-key commit per batch, closes it, reopens it, verifies every key's shape and
 * every batch's CRC32C against the values recorded while writing, and prints throughput and the numpy line that
 * reads a column.
 */
@Command(name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Write a GPT-2-small-sized activation run larger than the heap, reopen it, verify it.",
    description = {
        "",
        "Writes the activations a hooked GPT-2 small (12 layers, d_model 768, 12 heads, sequence length 128) "
            + "produces over BATCHES batches of BATCH_SIZE sequences, as TransformerLens names them: input_ids "
            + "I64 [B,128], and per layer L blocks.L.hook_resid_post, blocks.L.hook_attn_out and "
            + "blocks.L.hook_mlp_out F32 [B,128,768] and blocks.L.attn.hook_pattern F32 [B,12,128,128] (causal "
            + "softmax rows). 49 keys; each batch is appended to all of them in one atomic commit.",
        "",
        "The defaults write 16 x 8 sequences, about 2.8 GiB, while bin/actcache runs the demo with -Xmx256m: the "
            + "data streams through reusable off-heap buffers into memory-mapped files and never enters the heap.",
        "",
        "Then the store is closed, reopened (recovering and indexing it as any later run would) and verified: "
            + "every key's shape, and the CRC32C of every batch's rows, read back through zero-copy row slices, "
            + "against the CRC32C of the data written. Prints bytes written, write and verify throughput, the "
            + "store's size on disk and a python3 command that reads a column with numpy through manifest.json.",
        "",
        "The data is pseudo-random but deterministic: the same options write the same bytes.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache demo",
        "  actcache demo --dir runs/demo --batches 4 --batch-size 2",
        "  ACTCACHE_JAVA_OPTS=-Xmx128m actcache demo --batches 32 --durability FSYNC"})
final class DemoCommand implements Callable<Integer> {
    private static final String NUMPY_KEY = "blocks.0.hook_resid_post";

    @Option(names = "--dir", paramLabel = "DIR",
        description = "Store directory to create (must not exist or be empty); kept at the end. Default: a new "
            + "temporary directory, deleted at the end unless --keep.")
    Path dir;

    @Option(names = "--batches", paramLabel = "N", defaultValue = "16",
        description = "Batches to write (default: ${DEFAULT-VALUE}).")
    int batches;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "8",
        description = "Sequences per batch (default: ${DEFAULT-VALUE}); each is 23.6 MB of activations.")
    int batchSize;

    @Option(names = "--durability", paramLabel = "LEVEL", defaultValue = "PROCESS",
        description = "What each commit survives: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}: a killed "
            + "JVM, not a power loss; FSYNC forces every commit to the device, NONE forces nothing).")
    Durability durability;

    @Option(names = "--keep", description = "Keep the temporary store (its path is printed).")
    boolean keep;

    @Option(names = {"-q", "--quiet"}, description = "Draw no progress bars (they are drawn only on a terminal).")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        checkOptions();
        final PrintWriter out = spec.commandLine().getOut();
        final DemoActivations data = new DemoActivations(batchSize);
        final long total = data.bytesPerBatch() * batches;
        final boolean temporary = dir == null;
        final Path store = (temporary ? Files.createTempDirectory("actcache-demo-") : dir).toAbsolutePath();
        try {
            checkFreeSpace(store, total);
            printPlan(out, data, store, total, temporary);
            final long[][] crcs = new long[data.keyCount()][batches];
            final Timing write = write(data, store, total, crcs);
            out.printf(Locale.ROOT, "write    %d bytes in %d atomic commits: %.2f s, %s (store calls alone: %s; "
                    + "the rest is generating the data)%n", total, batches, write.seconds(),
                Bytes.throughput(total, write.seconds()), Bytes.throughput(total, write.storeSeconds()));
            out.printf(Locale.ROOT, "close    checkpoint%s: %.2f s%n", switch (durability) {
                case NONE -> " (forces nothing)";
                case PROCESS -> " (forces the " + Bytes.human(total) + " the commits wrote to the device)";
                case FSYNC -> " (every commit was forced already)";
            }, write.closeSeconds());
            out.flush();
            verify(out, data, store, total, crcs);
            printNumpyLine(out, store, temporary && !keep);
        } finally {
            if (temporary && !keep) {
                StoreFiles.deleteTree(store);
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    private void checkOptions() {
        if (batches < 1) {
            throw new ParameterException(spec.commandLine(), "--batches must be at least 1, was " + batches);
        }
        if (batchSize < 1 || batchSize > DemoActivations.maxBatchSize()) {
            throw new ParameterException(spec.commandLine(),
                "--batch-size must be in [1, " + DemoActivations.maxBatchSize() + "], was " + batchSize);
        }
    }

    private void printPlan(final PrintWriter out, final DemoActivations data, final Path store, final long total,
        final boolean temporary) {
        final long heap = Runtime.getRuntime().maxMemory();
        out.printf(Locale.ROOT, "actcache demo: a GPT-2-small-shaped activation run (%d layers, d_model %d, %d heads, "
                + "seq %d)%n", DemoActivations.LAYERS, DemoActivations.D_MODEL, DemoActivations.HEADS,
            DemoActivations.SEQ);
        out.println("  store       " + store + (temporary ? keep ? " (temporary, kept: --keep)"
            : " (temporary: deleted at the end; --keep or --dir keeps it)" : ""));
        out.printf(Locale.ROOT, "  plan        %d batches, batch size %d, %d keys: %s per batch, %s in all%n",
            batches, batchSize, data.keyCount(), Bytes.human(data.bytesPerBatch()), Bytes.human(total));
        out.println("  durability  " + durability + describe(durability));
        out.printf(Locale.ROOT, "  heap        max %s; the run writes %.1fx that, none of it through the heap%n",
            Bytes.human(heap), (double) total / heap);
        out.println();
        out.flush();
    }

    private Timing write(final DemoActivations data, final Path store, final long total, final long[][] crcs) {
        final long start = System.nanoTime();
        long storeNanos = 0;
        final StoreOptions options = StoreOptions.builder().durability(durability).build();
        try (Progress progress = Progress.start("write", total, quiet);
             ActivationStore writer = ActivationStore.create(store, options)) {
            for (int b = 0; b < batches; b++) {
                try (ActivationStore.Batch batch = writer.batch()) {
                    for (int k = 0; k < data.keyCount(); k++) {
                        final Tensor tensor = data.fill(k, b);
                        final TensorView view = tensor.view();
                        crcs[k][b] = view.crc32c();
                        final long t0 = System.nanoTime();
                        batch.append(data.key(k), view);
                        storeNanos += System.nanoTime() - t0;
                        progress.step(tensor.byteSize());
                    }
                    final long t0 = System.nanoTime();
                    batch.commit();
                    storeNanos += System.nanoTime() - t0;
                }
            }
            final long writeNanos = System.nanoTime() - start;
            // Timed apart: at close the checkpoint forces every byte the commits wrote, at the device's speed.
            final long t0 = System.nanoTime();
            writer.close();
            return new Timing(writeNanos, storeNanos, System.nanoTime() - t0);
        }
    }

    private void verify(final PrintWriter out, final DemoActivations data, final Path store, final long total,
        final long[][] crcs) {
        final long start = System.nanoTime();
        final long rows = (long) batches * batchSize;
        long checked = 0;
        final long onDisk;
        final double reopenSeconds;
        try (Progress progress = Progress.start("verify", total, quiet);
             ActivationStore reader = ActivationStore.open(store)) {
            reopenSeconds = (System.nanoTime() - start) / 1e9;
            if (reader.size() != data.keyCount()) {
                throw new CorruptFileException("demo store " + store + " holds " + reader.size() + " keys after "
                    + "reopening, " + data.keyCount() + " were written");
            }
            for (int k = 0; k < data.keyCount(); k++) {
                final String key = data.key(k);
                final TensorView column = reader.get(key);
                final Shape expected = data.shape(k, rows);
                if (!column.shape().equals(expected)) {
                    throw new CorruptFileException("demo store " + store + ": key '" + key + "' has shape "
                        + column.shape() + " after reopening, " + expected + " was written");
                }
                for (int b = 0; b < batches; b++) {
                    final TensorView slice = column.rows((long) b * batchSize, (long) (b + 1) * batchSize);
                    final long crc = slice.crc32c();
                    if (crc != crcs[k][b]) {
                        throw new CorruptFileException(String.format(Locale.ROOT, "demo store %s: key '%s', batch "
                            + "%d (rows %d to %d): CRC32C 0x%08x read back, 0x%08x written", store, key, b,
                            (long) b * batchSize, (long) (b + 1) * batchSize, crc, crcs[k][b]));
                    }
                    checked += slice.byteSize();
                    progress.step(slice.byteSize());
                }
            }
            onDisk = reader.bytesOnDisk();
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "reopen   ActivationStore.open: %.3f s%n", reopenSeconds);
        out.printf(Locale.ROOT, "verify   %d bytes, %d keys x %d batches, shapes and CRC32C: %.2f s, %s%n", checked,
            data.keyCount(), batches, seconds, Bytes.throughput(checked, seconds));
        out.printf(Locale.ROOT, "on disk  %d bytes (%s)%n", onDisk, Bytes.human(onDisk));
        out.printf(Locale.ROOT, "heap     max %s, while %s (%d bytes) were written and read back%n",
            Bytes.human(Runtime.getRuntime().maxMemory()), Bytes.human(total), total);
        out.println();
        out.printf(Locale.ROOT, "verified: all %d keys have the shapes written and all %d batches read back "
            + "bit-exact (CRC32C)%n", data.keyCount(), batches);
        out.flush();
    }

    private static void printNumpyLine(final PrintWriter out, final Path store, final boolean deleted) {
        final String python = "import json, numpy as np; d=" + pythonString(store.toString())
            + "; m=json.load(open(d+'/manifest.json')); a=np.load(d+'/'+m['columns']['" + NUMPY_KEY
            + "']['file'], mmap_mode='r'); print(a.shape, a.dtype, float(a[0,0,:4].sum()))";
        out.println();
        out.println("Read a column with numpy, finding its file through manifest.json"
            + (deleted ? " (this store is deleted now: run the demo with --keep or --dir to try it):" : ":"));
        out.println("python3 -c " + shellDoubleQuoted(python));
    }

    private static String describe(final Durability level) {
        switch (level) {
            case NONE: return " (commits are never forced: a crash may lose them; scratch data only)";
            case PROCESS: return " (the demo's default: a commit survives a killed JVM, not a power loss; "
                + "FSYNC survives that too)";
            default: return " (every commit is forced to the device: it survives a power loss)";
        }
    }

    /** Fails before writing anything when the file system cannot hold the run. */
    private static void checkFreeSpace(final Path store, final long total) throws IOException {
        Path existing = store;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return;
        }
        final long usable = Files.getFileStore(existing).getUsableSpace();
        final long needed = total + (64L << 20);
        if (usable < needed) {
            throw new IllegalArgumentException("the demo needs about " + Bytes.human(needed) + " at " + store
                + " but only " + Bytes.human(usable) + " is free; lower --batches or --batch-size, or pick --dir");
        }
    }

    private static String pythonString(final String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String shellDoubleQuoted(final String text) {
        final StringBuilder quoted = new StringBuilder(text.length() + 8).append('"');
        for (int i = 0; i < text.length(); i++) {
            final char c = text.charAt(i);
            if (c == '"' || c == '\\' || c == '$' || c == '`') {
                quoted.append('\\');
            }
            quoted.append(c);
        }
        return quoted.append('"').toString();
    }

    /** Wall time of a phase and the part of it spent in store calls. */
    private record Timing(long nanos, long storeNanos, long closeNanos) {
        double seconds() {
            return nanos / 1e9;
        }

        double storeSeconds() {
            return storeNanos / 1e9;
        }

        double closeSeconds() {
            return closeNanos / 1e9;
        }
    }
}
