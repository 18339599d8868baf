package io.actcache.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.actcache.cache.MemoryTree;
import io.actcache.store.ActivationStore;
import io.actcache.store.ColumnDescriptor;
import io.actcache.tensor.Shape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code actcache info DIR [--json]}: what a store holds, read through {@link ActivationStore#openReadOnly(Path)}.
 *
 * <p>Design note: this is the command people run most, often in loops and scripts, so it costs O(keys) and never
 * O(bytes): it reads the manifest and the journal tail only, maps no column, takes no lock and never opens the
 * writer's Chronicle Map index (no Chronicle class loads on this path), so it also works beside a live writer and
 * on a read-only copy.
 */
@Command(name = "info",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Show what a store holds: every key's kind, dtype, shape, size and file, and totals.",
    description = {
        "",
        "Opens the store at DIR read-only (no lock, nothing written, so it runs beside a writer and on a read-only "
            + "copy) and prints one row per key, sorted by key:",
        "",
        "  KEY    the key, for example blocks.0.hook_resid_post",
        "  KIND   DENSE (one tensor grown along dim 0), LIST (ragged) or SCALAR",
        "  DTYPE  F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL",
        "  CODEC  RAW, LZ4 or SHUFFLE_LZ4 (change it with compact --codec)",
        "  SHAPE  the committed shape, dim 0 first",
        "  BYTES  committed tensor bytes (raw), exact and human-readable",
        "  STORED bytes the data takes in its file (compressed blocks for LZ4 and SHUFFLE_LZ4)",
        "  RATIO  BYTES / STORED",
        "  FILE   the column file, relative to DIR; for a RAW DENSE column an .npy file that "
            + "numpy.load(path, mmap_mode=\"r\") opens (BF16 arrives as uint16 bit patterns); a compressed "
            + "column's .blk file is read through actcache (or exported)",
        "",
        "then the memory tree by prefix (every key prefix, split after '.' or '_', that groups several keys, "
            + "with its total bytes), the store's metadata (name = value) and totals: keys, bytes stored (tensor data), bytes on disk "
            + "(every file of the store), the epoch of the last commit and the durability the store was created "
            + "with.",
        "",
        "With --json, prints one JSON object with the same information as exact numbers, for scripts: "
            + "{\"store\", \"keyCount\", \"bytesStored\", \"bytesOnDisk\", \"epoch\", \"durability\", \"metadata\", "
            + "\"prefixes\": {PREFIX: bytes}, "
            + "\"columns\": "
            + "{KEY: {\"id\", \"file\", \"kind\", \"dtype\", \"codec\", \"shape\", \"bytes\", \"storedBytes\", "
            + "\"ratio\"}}}, the columns keyed "
            + "as in the store's manifest.json.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache info runs/gpt2",
        "  actcache info runs/gpt2 --json | jq '.columns | keys'"})
final class InfoCommand implements Callable<Integer> {
    private static final String[] HEADINGS = {"KEY", "KIND", "DTYPE", "CODEC", "SHAPE", "BYTES", "STORED", "RATIO",
        "FILE"};

    @Parameters(index = "0", paramLabel = "DIR", description = "The store directory.")
    Path dir;

    @Option(names = "--json", description = "Print one JSON object (exact numbers) instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        final PrintWriter out = spec.commandLine().getOut();
        final Listing listing;
        // Absolute and normalized, so column files relativize against it cheaply.
        try (ActivationStore store = ActivationStore.openReadOnly(dir.toAbsolutePath().normalize())) {
            listing = Listing.of(store);
        }
        if (json) {
            printJson(out, listing);
        } else {
            // One write: picocli's writer flushes on every println, 10,000 syscalls for 10,000 keys.
            out.print(table(listing));
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static StringBuilder table(final Listing listing) {
        final StringBuilder text = new StringBuilder(128 * (listing.columns.size() + 8));
        if (listing.columns.isEmpty()) {
            text.append("(no keys)\n");
        } else {
            final List<String[]> rows = new ArrayList<>(listing.columns.size() + 1);
            final int[] widths = new int[HEADINGS.length];
            rows.add(measure(widths, HEADINGS));
            for (final Map.Entry<String, ColumnDescriptor> entry : listing.columns.entrySet()) {
                final ColumnDescriptor column = entry.getValue();
                rows.add(measure(widths, new String[] {entry.getKey(), column.kind().name(), column.dtype().name(),
                    column.codec().name(), column.shape().toString(),
                    column.byteSize() + " (" + Bytes.human(column.byteSize()) + ")",
                    column.storedBytes() + " (" + Bytes.human(column.storedBytes()) + ")",
                    String.format(java.util.Locale.ROOT, "%.2f", ratio(column)), listing.files.get(entry.getKey())}));
            }
            for (final String[] row : rows) {
                for (int i = 0; i < row.length - 1; i++) {
                    text.append(row[i]).append(" ".repeat(widths[i] - row[i].length() + 2));
                }
                text.append(row[row.length - 1]).append('\n');
            }
            text.append('\n');
        }
        for (final Map.Entry<String, Long> entry : listing.prefixes.entrySet()) {
            text.append("prefix      ").append(entry.getKey()).append("  ").append(entry.getValue()).append(" bytes (")
                .append(Bytes.human(entry.getValue())).append(")\n");
        }
        for (final Map.Entry<String, String> entry : listing.metadata.entrySet()) {
            text.append("metadata    ").append(entry.getKey()).append(" = ").append(entry.getValue()).append('\n');
        }
        text.append("store       ").append(listing.dir).append('\n');
        text.append("keys        ").append(listing.columns.size()).append('\n');
        text.append("stored      ").append(listing.bytesStored).append(" bytes (")
            .append(Bytes.human(listing.bytesStored)).append(")\n");
        text.append("on disk     ").append(listing.bytesOnDisk).append(" bytes (")
            .append(Bytes.human(listing.bytesOnDisk)).append(")\n");
        text.append("epoch       ").append(listing.epoch).append('\n');
        text.append("durability  ").append(listing.durability).append('\n');
        return text;
    }

    /** @return raw bytes over stored bytes: 1 for RAW, the compression ratio otherwise (1 when empty). */
    private static double ratio(final ColumnDescriptor column) {
        return column.storedBytes() == 0 ? 1.0 : (double) column.byteSize() / column.storedBytes();
    }

    private static String[] measure(final int[] widths, final String[] cells) {
        for (int i = 0; i < cells.length; i++) {
            widths[i] = Math.max(widths[i], cells[i].length());
        }
        return cells;
    }

    private static void printJson(final PrintWriter out, final Listing listing) throws IOException {
        try (JsonGenerator gen = new JsonFactory().createGenerator(out)) {
            gen.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            gen.useDefaultPrettyPrinter();
            gen.writeStartObject();
            gen.writeStringField("store", listing.dir.toString());
            gen.writeNumberField("keyCount", listing.columns.size());
            gen.writeNumberField("bytesStored", listing.bytesStored);
            gen.writeNumberField("bytesOnDisk", listing.bytesOnDisk);
            gen.writeNumberField("epoch", listing.epoch);
            gen.writeStringField("durability", listing.durability);
            gen.writeObjectFieldStart("metadata");
            for (final Map.Entry<String, String> entry : listing.metadata.entrySet()) {
                gen.writeStringField(entry.getKey(), entry.getValue());
            }
            gen.writeEndObject();
            gen.writeObjectFieldStart("prefixes");
            for (final Map.Entry<String, Long> entry : listing.prefixes.entrySet()) {
                gen.writeNumberField(entry.getKey(), entry.getValue());
            }
            gen.writeEndObject();
            gen.writeObjectFieldStart("columns");
            for (final Map.Entry<String, ColumnDescriptor> entry : listing.columns.entrySet()) {
                final ColumnDescriptor column = entry.getValue();
                gen.writeObjectFieldStart(entry.getKey());
                gen.writeNumberField("id", column.columnId());
                gen.writeStringField("file", listing.files.get(entry.getKey()));
                gen.writeStringField("kind", column.kind().name());
                gen.writeStringField("dtype", column.dtype().name());
                gen.writeStringField("codec", column.codec().name());
                gen.writeArrayFieldStart("shape");
                final Shape shape = column.shape();
                for (int i = 0; i < shape.rank(); i++) {
                    gen.writeNumber(shape.dim(i));
                }
                gen.writeEndArray();
                gen.writeNumberField("bytes", column.byteSize());
                gen.writeNumberField("storedBytes", column.storedBytes());
                gen.writeNumberField("ratio", ratio(column));
                gen.writeEndObject();
            }
            gen.writeEndObject();
            gen.writeEndObject();
        }
        out.println();
    }

    /**
     * What {@code info} shows, read from the store in one go.
     *
     * @param dir         the store directory, absolute and normalized.
     * @param columns     every key's descriptor, sorted by key.
     * @param files       every key's column file, relative to {@code dir}.
     * @param metadata    the store's metadata, sorted by name.
     * @param bytesStored committed tensor bytes.
     * @param bytesOnDisk apparent size of every file of the store.
     * @param epoch       the epoch of the last commit.
     * @param durability  the durability the store was created with.
     * @param prefixes    bytes per key prefix that groups keys (the memory tree without its leaves).
     */
    private record Listing(Path dir, Map<String, ColumnDescriptor> columns, Map<String, String> files,
        Map<String, String> metadata, long bytesStored, long bytesOnDisk, long epoch, String durability,
        Map<String, Long> prefixes) {

        static Listing of(final ActivationStore store) throws IOException {
            final Path dir = store.directory();
            final Map<String, ColumnDescriptor> columns = store.descriptors();
            final Map<String, String> files = new HashMap<>(columns.size() * 2);
            final Map<String, Long> sizes = new HashMap<>(columns.size() * 2);
            long stored = 0;
            for (final Map.Entry<String, ColumnDescriptor> entry : columns.entrySet()) {
                stored += entry.getValue().byteSize();
                sizes.put(entry.getKey(), entry.getValue().byteSize());
                files.put(entry.getKey(), dir.relativize(store.columnFile(entry.getKey())).toString());
            }
            return new Listing(dir, columns, files, store.metadata(), stored, store.bytesOnDisk(), store.epoch(),
                store.durability().name(), MemoryTree.of(sizes).prefixBytes());
        }
    }
}
