package io.actcache.cli;

import io.actcache.interop.CacheExporter;
import io.actcache.interop.ExportFormat;
import io.actcache.interop.ExportOptions;
import io.actcache.interop.ExportReport;
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
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code actcache export DIR OUT --format safetensors|npy}: a store's keys written as files other tools read. */
@Command(name = "export",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Write a store's keys as safetensors or .npy files, streamed, in bounded memory.",
    description = {
        "",
        "Opens the store at DIR read-only (it runs beside a writer and exports the last commit) and writes the "
            + "keys (all, or those --keys selects) to the new directory OUT:",
        "",
        "  --format safetensors  model.safetensors, or, past --shard-size, shards",
        "                        model-00001-of-00003.safetensors ... with",
        "                        model.safetensors.index.json (metadata.total_size,",
        "                        weight_map), as Hugging Face names them; store",
        "                        metadata goes into __metadata__. A LIST key (ragged",
        "                        tensors) is written as KEY[0], KEY[1], ...",
        "  --format npy          one KEY.npy file per key (KEY.list/0.npy, 1.npy, ...",
        "                        per LIST key; characters outside A-Z a-z 0-9 _ . -",
        "                        written %XX), and actcache-export.json listing them",
        "                        with dtypes; 'actcache import' reads it back.",
        "",
        "Tensor bytes are copied from the store's mapped columns to the output with channel writes, never "
            + "through the Java heap, so a store larger than memory exports in bounded memory. The export is "
            + "written beside OUT and renamed into place when complete: a failure or crash leaves no partial "
            + "OUT. An existing OUT is refused unless --force, which replaces it when it holds nothing but "
            + ".safetensors, .npy and .json files.",
        "",
        "A progress bar with bytes/s is drawn on stderr when stdout is a terminal, unless --quiet or --json.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache export runs/gpt2 out/ --format safetensors --shard-size 2GB",
        "  actcache export runs/gpt2 out/ --format npy --keys 'blocks\\.0\\..*'",
        "  python3 -c \"from safetensors.numpy import load_file; print(load_file('out/model.safetensors').keys())\"",
        "",
        "Exit status:",
        "  0  exported",
        "  1  bad usage, a missing store, OUT exists (without --force)",
        "  2  the store is damaged",
        "  3  I/O error (disk full, ...); no partial OUT is left"})
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The store directory.")
    Path dir;

    @Parameters(index = "1", paramLabel = "OUT", description = "The directory to create.")
    Path target;

    @Option(names = "--format", required = true, paramLabel = "FORMAT",
        description = "safetensors or npy.")
    ExportFormat format;

    @Option(names = "--keys", paramLabel = "REGEX",
        description = "Export only keys whose whole name matches this regular expression.")
    String keys;

    @Option(names = "--shard-size", paramLabel = "SIZE", defaultValue = "5GB",
        description = "Largest safetensors shard, e.g. 2GB, 500MB, 1GiB (default: ${DEFAULT-VALUE}).")
    String shardSize;

    @Option(names = "--force", description = "Replace OUT if it exists.")
    boolean force;

    @ArgGroup(exclusive = true)
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        final Path store = dir.toAbsolutePath().normalize();
        final Path out = target.toAbsolutePath().normalize();
        final long started = System.nanoTime();
        final ExportReport report;
        try (ActivationStore reader = ActivationStore.openReadOnly(store);
             Progress progress = Progress.start("export", reader.bytesStored(), output.silent())) {
            final ExportOptions.Builder options = ExportOptions.builder().shardSize(Bytes.parse(shardSize))
                .force(force).progress(progress.listener());
            if (keys != null) {
                options.keys(KeyPatterns.compile(keys, true));
            }
            report = CacheExporter.export(reader, out, format, options.build());
        }
        final double seconds = (System.nanoTime() - started) / 1e9;
        final PrintWriter print = spec.commandLine().getOut();
        if (output.json) {
            JsonOutput.print(print, gen -> {
                gen.writeStartObject();
                gen.writeStringField("target", report.target().toString());
                gen.writeStringField("format", report.format().name().toLowerCase(Locale.ROOT));
                gen.writeArrayFieldStart("files");
                for (final Path file : report.files()) {
                    gen.writeString(file.toString());
                }
                gen.writeEndArray();
                gen.writeNumberField("keys", report.keys().size());
                gen.writeNumberField("tensors", report.tensors());
                gen.writeNumberField("bytes", report.bytes());
                gen.writeNumberField("seconds", seconds);
                gen.writeEndObject();
            });
        } else if (!output.quiet) {
            print.println("exported " + report.keys().size() + " keys, " + report.tensors() + " tensors, "
                + report.bytes() + " bytes (" + Bytes.human(report.bytes()) + ") to " + report.target() + " as "
                + report.files().size() + (report.files().size() == 1 ? " file" : " files") + " in "
                + String.format(Locale.ROOT, "%.2f s", seconds) + " (" + Bytes.throughput(report.bytes(), seconds)
                + ")");
        }
        print.flush();
        return ExitCodes.OK;
    }
}
