package io.actcache.cli;

import io.actcache.CorruptFileException;
import io.actcache.StoreIOException;
import io.actcache.store.ActivationStore;
import io.actcache.store.ColumnDescriptor;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code actcache verify DIR}: checks every checksum block and header of every key. */
@Command(name = "verify",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Check every byte of a store against its checksums.",
    description = {
        "",
        "Opens the store at DIR read-only (so it runs beside a writer, and on a read-only copy), which checks "
            + "the manifest and every journal record, then reads every key's data and checks each block against "
            + "its CRC32C, and each column file's NPY header against the committed shape.",
        "",
        "Every damaged key is reported, one line each, naming the file, the key, the block and its byte "
            + "offset; the first line on stderr says how many keys are damaged and the exit status is 2. A clean "
            + "store prints the keys and bytes checked and the rate.",
        "",
        "A progress bar with bytes/s is drawn on stderr when stdout is a terminal, unless --quiet or --json.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache verify runs/gpt2",
        "  actcache verify runs/gpt2 --json | jq .damaged",
        "",
        "Exit status:",
        "  0  every byte matches its checksum",
        "  1  bad usage or no store at DIR",
        "  2  corruption found (the lines printed name each damaged file, key and block)",
        "  3  I/O error"})
final class VerifyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The store directory.")
    Path dir;

    @ArgGroup(exclusive = true)
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec spec;

    private static boolean missingFile(final Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NoSuchFileException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public Integer call() throws IOException {
        final Path store = dir.toAbsolutePath().normalize();
        final Map<String, String> damaged = new LinkedHashMap<>();
        final long started = System.nanoTime();
        long checked = 0;
        int keys;
        try (ActivationStore reader = ActivationStore.openReadOnly(store)) {
            final Map<String, ColumnDescriptor> columns = reader.descriptors();
            keys = columns.size();
            final long total = columns.values().stream().mapToLong(ColumnDescriptor::byteSize).sum();
            try (Progress progress = Progress.start("verify", total, output.silent())) {
                for (final Map.Entry<String, ColumnDescriptor> entry : columns.entrySet()) {
                    try {
                        checked += reader.verify(entry.getKey());
                    } catch (final CorruptFileException e) {
                        damaged.put(entry.getKey(), ExitCodes.message(e));
                    } catch (final StoreIOException e) {
                        if (!missingFile(e)) {
                            throw e;
                        }
                        // Gone: a writer replaced the key and its checkpoint deleted the old file (the key then
                        // reads afresh after a refresh), or the committed file was lost, which is damage.
                        reader.refresh();
                        final ColumnDescriptor now = reader.descriptors().get(entry.getKey());
                        if (now != null && now.columnId() == entry.getValue().columnId()) {
                            damaged.put(entry.getKey(), "missing file of a committed key: " + ExitCodes.message(e));
                        }
                    }
                    progress.step(entry.getValue().byteSize());
                }
            }
        }
        final double seconds = (System.nanoTime() - started) / 1e9;
        final PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            final long bytes = checked;
            JsonOutput.print(out, gen -> {
                gen.writeStartObject();
                gen.writeStringField("store", store.toString());
                gen.writeNumberField("keys", keys);
                gen.writeNumberField("bytesChecked", bytes);
                gen.writeNumberField("seconds", seconds);
                gen.writeBooleanField("ok", damaged.isEmpty());
                gen.writeObjectFieldStart("damaged");
                for (final Map.Entry<String, String> entry : damaged.entrySet()) {
                    gen.writeStringField(entry.getKey(), entry.getValue());
                }
                gen.writeEndObject();
                gen.writeEndObject();
            });
        } else {
            damaged.values().forEach(line -> out.println("damaged  " + line));
            if (!output.quiet && damaged.isEmpty()) {
                out.println("ok  " + keys + " keys, " + checked + " bytes (" + Bytes.human(checked) + ") checked in "
                    + String.format(java.util.Locale.ROOT, "%.2f s", seconds)
                    + (seconds > 0 ? ", " + Bytes.human((long) (checked / seconds)) + "/s" : ""));
            }
        }
        out.flush();
        if (!damaged.isEmpty()) {
            throw new CorruptFileException(damaged.size() + " of " + keys + " keys of " + store + " are damaged; "
                + "first: " + damaged.values().iterator().next());
        }
        return ExitCodes.OK;
    }
}
