package io.actcache.cli;

import io.actcache.cache.ActivationCache;
import io.actcache.interop.CacheImporter;
import io.actcache.interop.ImportOptions;
import io.actcache.interop.ImportReport;
import io.actcache.store.ActivationStore;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code actcache import DIR FILES_OR_DIRS...}: safetensors and NPY batch files merged into a store. */
@Command(name = "import",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Merge safetensors and .npy batch files into a store, in order, in one commit.",
    description = {
        "",
        "Each FILE is one batch cache: a .safetensors file (every tensor a key; its __metadata__ becomes store "
            + "metadata), a .npy file (one tensor, keyed by the file name without .npy), or a directory that "
            + "'actcache export --format npy' wrote. A directory of batch files is read in natural order, as a "
            + "hook loop writes them: batch_2.safetensors before batch_10.safetensors.",
        "",
        "Batches are merged into the store at DIR (which must exist: see 'actcache create') as "
            + "ActivationCache.cat merges them: tensors concatenated along dim 0, input_ids and pattern_* kept as "
            + "lists of ragged tensors, offset flattened, mapping_index kept from the first batch. When the "
            + "store holds keys, every batch must hold the same keys (after --keys), with the same dtypes and "
            + "trailing dims; otherwise the first batch decides.",
        "",
        "Every file is checked before anything is written (safetensors header at most 100 MB, valid JSON, "
            + "known dtypes, offsets contiguous and within the file; NPY version 1-3, little-endian, C order), "
            + "and all batches land in one commit: after any failure the store is exactly as it was, and the "
            + "one-line error names the file (and tensor) at fault. Tensor bytes go from the mapped input files "
            + "to the store's columns, never through the Java heap, so inputs larger than memory import in "
            + "bounded memory.",
        "",
        "A progress bar with bytes/s is drawn on stderr when stdout is a terminal, unless --quiet or --json.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache create runs/gpt2 && actcache import runs/gpt2 dumps/",
        "  actcache import runs/gpt2 dumps/batch_0.safetensors dumps/batch_1.safetensors",
        "  actcache import runs/gpt2 dumps/ --keys 'blocks\\.[0-5]\\..*|input_ids'",
        "",
        "Exit status:",
        "  0  imported",
        "  1  bad usage, a missing store or file, a malformed file, or batches whose",
        "     keys or shapes do not fit the store; the store is unchanged",
        "  2  the store is damaged",
        "  3  I/O error (disk full, ...); the store is unchanged"})
final class ImportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The store directory (create it first).")
    Path dir;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "FILE",
        description = "safetensors or .npy files, or directories of them, in merge order.")
    List<Path> inputs;

    @Option(names = "--keys", paramLabel = "REGEX",
        description = "Import only tensors whose whole name matches this regular expression.")
    String keys;

    @ArgGroup(exclusive = true)
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        final Path store = dir.toAbsolutePath().normalize();
        final long started = System.nanoTime();
        final ImportReport report;
        final long epoch;
        try (ActivationStore writer = ActivationStore.open(store);
             ActivationCache cache = ActivationCache.over(writer);
             Progress progress = Progress.start("import", 0, output.silent())) {
            final ImportOptions.Builder options = ImportOptions.builder().progress(progress.listener());
            if (keys != null) {
                options.keys(KeyPatterns.compile(keys, true));
            }
            report = CacheImporter.importFiles(cache, inputs, options.build());
            epoch = writer.epoch();
        }
        final double seconds = (System.nanoTime() - started) / 1e9;
        final PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            JsonOutput.print(out, gen -> {
                gen.writeStartObject();
                gen.writeStringField("store", store.toString());
                gen.writeArrayFieldStart("files");
                for (final Path file : report.files()) {
                    gen.writeString(file.toString());
                }
                gen.writeEndArray();
                gen.writeNumberField("tensors", report.tensors());
                gen.writeNumberField("bytes", report.bytes());
                gen.writeNumberField("keys", report.keys().size());
                gen.writeObjectFieldStart("metadataAdded");
                for (final Map.Entry<String, String> entry : report.metadataAdded().entrySet()) {
                    gen.writeStringField(entry.getKey(), entry.getValue());
                }
                gen.writeEndObject();
                gen.writeNumberField("seconds", seconds);
                gen.writeNumberField("epoch", epoch);
                gen.writeEndObject();
            });
        } else if (!output.quiet) {
            out.println("imported " + report.files().size() + (report.files().size() == 1 ? " batch, " : " batches, ")
                + report.tensors() + " tensors, " + report.bytes() + " bytes (" + Bytes.human(report.bytes())
                + ") into " + store + " in " + String.format(Locale.ROOT, "%.2f s", seconds) + " ("
                + Bytes.throughput(report.bytes(), seconds) + "): " + report.keys().size() + " keys, epoch " + epoch);
        }
        out.flush();
        return ExitCodes.OK;
    }
}
