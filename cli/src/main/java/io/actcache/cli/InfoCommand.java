package io.actcache.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.actcache.store.ActivationStore;
import io.actcache.store.ColumnDescriptor;
import io.actcache.store.StoreFiles;
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
        "  SHAPE  the committed shape, dim 0 first",
        "  BYTES  committed tensor bytes, exact and human-readable",
        "  FILE   the column file, relative to DIR; for a DENSE column an .npy file that "
            + "numpy.load(path, mmap_mode=\"r\") opens (BF16 arrives as uint16 bit patterns)",
        "",
        "then totals: keys, bytes stored (tensor data), bytes on disk (every file of the store), the epoch of the "
            + "last commit and the durability the store was created with.",
        "",
        "With --json, prints one JSON object with the same information as exact numbers, for scripts: "
            + "{\"store\", \"keyCount\", \"bytesStored\", \"bytesOnDisk\", \"epoch\", \"durability\", \"columns\": "
            + "{KEY: {\"id\", \"file\", \"kind\", \"dtype\", \"codec\", \"shape\", \"bytes\"}}}, the columns keyed "
            + "as in the store's manifest.json.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache info runs/gpt2",
        "  actcache info runs/gpt2 --json | jq '.columns | keys'"})
final class InfoCommand implements Callable<Integer> {
    private static final String[] HEADINGS = {"KEY", "KIND", "DTYPE", "SHAPE", "BYTES", "FILE"};

    @Parameters(index = "0", paramLabel = "DIR", description = "The store directory.")
    Path dir;

    @Option(names = "--json", description = "Print one JSON object (exact numbers) instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        final PrintWriter out = spec.commandLine().getOut();
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final Map<String, ColumnDescriptor> columns = store.descriptors();
            long stored = 0;
            for (final ColumnDescriptor column : columns.values()) {
                stored += column.byteSize();
            }
            final Totals totals = new Totals(store.directory().toAbsolutePath().normalize(), columns.size(), stored,
                store.bytesOnDisk(), store.epoch(), store.durability().name());
            if (json) {
                printJson(out, columns, totals);
            } else {
                printTable(out, columns, totals);
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static void printTable(final PrintWriter out, final Map<String, ColumnDescriptor> columns,
        final Totals totals) {
        if (columns.isEmpty()) {
            out.println("(no keys)");
        } else {
            final List<String[]> rows = new ArrayList<>(columns.size());
            final int[] widths = new int[HEADINGS.length];
            measure(widths, HEADINGS);
            columns.forEach((key, column) -> rows.add(measure(widths, new String[] {key, column.kind().name(),
                column.dtype().name(), column.shape().toString(),
                column.byteSize() + " (" + Bytes.human(column.byteSize()) + ")", file(column)})));
            final StringBuilder line = new StringBuilder(256);
            printRow(out, line, widths, HEADINGS);
            for (final String[] row : rows) {
                printRow(out, line, widths, row);
            }
            out.println();
        }
        out.println("store       " + totals.dir);
        out.println("keys        " + totals.keys);
        out.println("stored      " + totals.bytesStored + " bytes (" + Bytes.human(totals.bytesStored) + ")");
        out.println("on disk     " + totals.bytesOnDisk + " bytes (" + Bytes.human(totals.bytesOnDisk) + ")");
        out.println("epoch       " + totals.epoch);
        out.println("durability  " + totals.durability);
    }

    private static String[] measure(final int[] widths, final String[] cells) {
        for (int i = 0; i < cells.length; i++) {
            widths[i] = Math.max(widths[i], cells[i].length());
        }
        return cells;
    }

    private static void printRow(final PrintWriter out, final StringBuilder line, final int[] widths,
        final String[] cells) {
        line.setLength(0);
        for (int i = 0; i < cells.length; i++) {
            line.append(cells[i]);
            if (i < cells.length - 1) {
                line.append(" ".repeat(widths[i] - cells[i].length() + 2));
            }
        }
        out.println(line);
    }

    private static void printJson(final PrintWriter out, final Map<String, ColumnDescriptor> columns,
        final Totals totals) throws IOException {
        try (JsonGenerator gen = new JsonFactory().createGenerator(out)) {
            gen.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            gen.useDefaultPrettyPrinter();
            gen.writeStartObject();
            gen.writeStringField("store", totals.dir.toString());
            gen.writeNumberField("keyCount", totals.keys);
            gen.writeNumberField("bytesStored", totals.bytesStored);
            gen.writeNumberField("bytesOnDisk", totals.bytesOnDisk);
            gen.writeNumberField("epoch", totals.epoch);
            gen.writeStringField("durability", totals.durability);
            gen.writeObjectFieldStart("columns");
            for (final Map.Entry<String, ColumnDescriptor> entry : columns.entrySet()) {
                final ColumnDescriptor column = entry.getValue();
                gen.writeObjectFieldStart(entry.getKey());
                gen.writeNumberField("id", column.columnId());
                gen.writeStringField("file", file(column));
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
                gen.writeEndObject();
            }
            gen.writeEndObject();
            gen.writeEndObject();
        }
        out.println();
    }

    private static String file(final ColumnDescriptor column) {
        return StoreFiles.COLUMNS + "/" + StoreFiles.columnFileName(column.columnId());
    }

    /** The summary lines of a store. */
    private record Totals(Path dir, int keys, long bytesStored, long bytesOnDisk, long epoch, String durability) {
    }
}
