package io.actcache.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.actcache.codec.Codec;
import io.actcache.store.ActivationStore;
import io.actcache.store.CompactOptions;
import io.actcache.store.CompactionReport;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code actcache compact DIR [--codec RAW|LZ4|SHUFFLE_LZ4 [--keys REGEX]] [--json | --quiet]}: reclaims the space
 * of replaced, removed and orphaned columns through {@link ActivationStore#compact(CompactOptions)}, as the store's
 * single writer, and with {@code --codec} rewrites the selected DENSE columns into that codec in one commit.
 */
@Command(name = "compact",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Reclaim the space of replaced, removed and orphaned columns of a store.",
    description = {
        "",
        "Opens the store at DIR for writing (taking its lock, and recovering it first if its last writer died), "
            + "then:",
        "",
        "  1. checkpoints it: writes manifest.json and starts a new journal;",
        "  2. deletes every file in columns/ that no key references: the files of",
        "     columns that a put replaced or a remove dropped, and orphans that",
        "     crashed or failed commits left;",
        "  3. cuts live column files back to their committed length;",
        "  4. rebuilds the writer's index (index.cmap) at the size the keys now",
        "     need, and deletes temporaries that a writer killed inside an atomic",
        "     file replacement left.",
        "",
        "With --codec, first rewrites every DENSE column (rank at least 1) in another codec, or those whose keys "
            + "REGEX matches as a whole with --keys, into that codec: each into a new file, all in one commit, so a "
            + "crash leaves every old column or every new one. LIST columns and scalars stay RAW. Values stay the "
            + "same; info shows each key's codec, stored bytes and ratio.",
        "",
        "Every value stays byte for byte as it was, and without --codec every live column keeps its file. A crash at any point "
            + "leaves a valid store; files it had yet to delete are collected by the next open. Files the store did "
            + "not write (names that are not column files) are left alone.",
        "",
        "A writer deletes the files of replaced and removed columns at each checkpoint by itself (when its "
            + "journal grows past a threshold, and when it closes), so compact is for a writer that never closed, "
            + "for orphans of crashes, and for an index that grew for keys since removed.",
        "",
        "It needs the store's lock, so it fails while another process writes the store. Readers may stay open: a "
            + "reader that has not refreshed since a key was replaced gets a clear error naming the deleted file "
            + "and asking it to refresh, never other data.",
        "",
        "Prints what was deleted and trimmed, and the size of the store directory before and after (apparent "
            + "sizes, as ls -l shows them). With --json, one JSON object with exact numbers: {\"store\", "
            + "\"filesDeleted\", \"bytesDeleted\", \"bytesTrimmed\", \"columnsRewritten\", \"bytesOnDiskBefore\", "
            + "\"bytesOnDiskAfter\", \"directoryBytesBefore\", \"directoryBytesAfter\", \"bytesReclaimed\", "
            + "\"epoch\"}; bytesOnDisk is the store's own accounting (live columns and store files), directoryBytes "
            + "every file in the directory.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache compact runs/gpt2",
        "  actcache compact runs/gpt2 --json | jq .bytesReclaimed",
        "  actcache compact runs/gpt2 --codec LZ4 --keys 'blocks\\..*\\.attn\\.hook_pattern'",
        "  actcache compact runs/gpt2 --codec SHUFFLE_LZ4 --keys 'input_ids'",
        "  actcache compact runs/gpt2 --codec RAW",
        "",
        "Exit status:",
        "  0  compacted",
        "  1  bad usage, no store at DIR, or another process holds the store's lock",
        "  2  corruption found: a live column file missing or shorter than committed,",
        "     a damaged journal or manifest",
        "  3  I/O error (permission denied, disk full, ...)"})
final class CompactCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The store directory.")
    Path dir;

    @Option(names = "--codec", paramLabel = "CODEC",
        description = "Rewrite DENSE columns into this codec: ${COMPLETION-CANDIDATES}.")
    Codec codec;

    @Option(names = "--keys", paramLabel = "REGEX",
        description = "With --codec: only the keys this Java regular expression matches as a whole.")
    String keys;

    @ArgGroup(exclusive = true)
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        final Path store = dir.toAbsolutePath().normalize();
        final CompactionReport report;
        final long epoch;
        final CompactOptions.Builder options = CompactOptions.builder().codec(codec);
        if (keys != null) {
            if (codec == null) {
                throw new ParameterException(spec.commandLine(), "--keys selects the columns --codec rewrites; "
                    + "give --codec RAW, LZ4 or SHUFFLE_LZ4 too");
            }
            try {
                options.rewrite(KeyPatterns.compile(keys, true));
            } catch (final IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--keys: " + e.getMessage(), e, null, keys);
            }
        }
        try (ActivationStore writer = ActivationStore.open(store)) {
            report = writer.compact(options.build());
            epoch = writer.epoch();
        }
        final PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            printJson(out, store, report, epoch);
        } else if (!output.quiet) {
            out.print(summary(store, report));
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static String summary(final Path store, final CompactionReport report) {
        final StringBuilder text = new StringBuilder(512);
        text.append("store       ").append(store).append('\n');
        text.append("deleted     ").append(report.filesDeleted())
            .append(report.filesDeleted() == 1 ? " file, " : " files, ").append(bytes(report.bytesDeleted()))
            .append('\n');
        text.append("trimmed     ").append(bytes(report.bytesTrimmed())).append('\n');
        text.append("rewritten   ").append(report.columnsRewritten())
            .append(report.columnsRewritten() == 1 ? " column" : " columns").append('\n');
        text.append("directory   ").append(bytes(report.directoryBytesBefore())).append(" -> ")
            .append(bytes(report.directoryBytesAfter())).append('\n');
        final long reclaimed = report.bytesReclaimed();
        text.append(reclaimed >= 0 ? "reclaimed   " + bytes(reclaimed) : "grew        " + bytes(-reclaimed))
            .append('\n');
        return text.toString();
    }

    private static String bytes(final long count) {
        return count + " bytes (" + Bytes.human(count) + ")";
    }

    private static void printJson(final PrintWriter out, final Path store, final CompactionReport report,
        final long epoch) throws IOException {
        try (JsonGenerator gen = new JsonFactory().createGenerator(out)) {
            gen.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            gen.useDefaultPrettyPrinter();
            gen.writeStartObject();
            gen.writeStringField("store", store.toString());
            gen.writeNumberField("filesDeleted", report.filesDeleted());
            gen.writeNumberField("bytesDeleted", report.bytesDeleted());
            gen.writeNumberField("bytesTrimmed", report.bytesTrimmed());
            gen.writeNumberField("columnsRewritten", report.columnsRewritten());
            gen.writeNumberField("bytesOnDiskBefore", report.bytesOnDiskBefore());
            gen.writeNumberField("bytesOnDiskAfter", report.bytesOnDiskAfter());
            gen.writeNumberField("directoryBytesBefore", report.directoryBytesBefore());
            gen.writeNumberField("directoryBytesAfter", report.directoryBytesAfter());
            gen.writeNumberField("bytesReclaimed", report.bytesReclaimed());
            gen.writeNumberField("epoch", epoch);
            gen.writeEndObject();
        }
        out.println();
    }
}
