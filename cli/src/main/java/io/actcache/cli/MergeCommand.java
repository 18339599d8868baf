package io.actcache.cli;

import io.actcache.cache.ActivationCache;
import io.actcache.cache.DeferredMerge;
import io.actcache.store.ActivationStore;
import io.actcache.store.StoreFiles;
import io.actcache.store.StoreOptions;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code actcache merge DST SRC...}: appends stores written by separate workers, in order, in one commit. */
@Command(name = "merge",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Append whole stores, in order, to a destination store, in one atomic commit.",
    description = {
        "",
        "Merges every SRC store (each opened read-only, so workers may still hold them) into DST in the order "
            + "given, as ActivationCache.cat would merge batch caches: each key with its aggregation strategy. "
            + "The strategies are the built-in defaults: concatenation along dim 0 for tensors, input_ids and "
            + "pattern_* kept as lists of ragged tensors, offset flattened, mapping_index kept from the first. "
            + "Then the sources' metadata is added to DST's (a later source wins on a name both have).",
        "",
        "DST is created (durability FSYNC) when it does not exist. When DST holds keys, every SRC must hold "
            + "the same keys, with the same dtypes and trailing dims; otherwise the first SRC decides the keys.",
        "",
        "The data of all sources lands in one commit (the metadata in the next): after a failure (a mismatched key set or shape, a damaged source, a "
            + "full disk) or a crash, DST is exactly as it was before. Nothing is read onto the Java heap: "
            + "columns are copied from the sources' mapped files.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache merge runs/all runs/worker-0 runs/worker-1 runs/worker-2",
        "",
        "Exit status:",
        "  0  merged",
        "  1  bad usage, a missing store, or sources whose keys or shapes do not fit",
        "  2  a damaged source or destination",
        "  3  I/O error (disk full, ...); DST is unchanged"})
final class MergeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DST", description = "The destination store (created if missing).")
    Path destination;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "SRC", description = "Source stores, in order.")
    List<Path> sources;

    @ArgGroup(exclusive = true)
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec spec;

    /** A merge that created DST and failed leaves no store there: DST is as it was, missing or empty. */
    private static void removeCreated(final Path target, final boolean directoryExisted, final RuntimeException e) {
        try {
            StoreFiles.deleteTree(target);
            if (directoryExisted) {
                Files.createDirectories(target);
            }
        } catch (final IOException | RuntimeException cleanup) {
            e.addSuppressed(cleanup);
        }
    }

    @Override
    public Integer call() throws IOException {
        final Path target = destination.toAbsolutePath().normalize();
        for (final Path source : sources) {
            if (source.toAbsolutePath().normalize().equals(target)) {
                throw new IllegalArgumentException("cannot merge store " + target + " into itself");
            }
        }
        final List<ActivationStore> opened = new ArrayList<>();
        final long started = System.nanoTime();
        final long written;
        final long epoch;
        final int keys;
        final boolean created = !Files.exists(target.resolve(StoreFiles.PROPERTIES));
        final boolean directoryExisted = Files.isDirectory(target);
        try {
            long total = 0;
            for (final Path source : sources) {
                final ActivationStore store = ActivationStore.openReadOnly(source.toAbsolutePath().normalize());
                opened.add(store);
                total += store.bytesStored();
            }
            try (ActivationStore store = created ? ActivationStore.create(target, StoreOptions.defaults()) : ActivationStore.open(target);
                 ActivationCache cache = ActivationCache.over(store);
                 Progress progress = Progress.start("merge", total, output.silent())) {
                final long before = store.bytesWritten();
                final Map<String, String> metadata = new TreeMap<>();
                try (DeferredMerge merge = cache.deferred();
                     // A racy read of a plain counter: good enough to move a progress bar.
                     Progress.Poll poll = progress.poll(() -> store.bytesWritten() - before)) {
                    try {
                        for (final ActivationStore source : opened) {
                            merge.cat(ActivationCache.over(source));
                            metadata.putAll(source.metadata());
                        }
                    } catch (final RuntimeException e) {
                        merge.discard(); // closing would merge the sources collected before the failure
                        throw e;
                    }
                }
                if (!metadata.isEmpty()) {
                    store.putMetadata(metadata);
                }
                written = store.bytesWritten() - before;
                epoch = store.epoch();
                keys = store.size();
            }
        } catch (final RuntimeException e) {
            if (created) {
                removeCreated(target, directoryExisted, e);
            }
            throw e;
        } finally {
            for (final ActivationStore store : opened) {
                store.close();
            }
        }
        final double seconds = (System.nanoTime() - started) / 1e9;
        final PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            JsonOutput.print(out, gen -> {
                gen.writeStartObject();
                gen.writeStringField("store", target.toString());
                gen.writeBooleanField("created", created);
                gen.writeNumberField("sources", sources.size());
                gen.writeNumberField("keys", keys);
                gen.writeNumberField("bytesWritten", written);
                gen.writeNumberField("seconds", seconds);
                gen.writeNumberField("epoch", epoch);
                gen.writeEndObject();
            });
        } else if (!output.quiet) {
            out.println((created ? "created and merged " : "merged ") + sources.size() + " stores into " + target
                + ": " + keys + " keys, " + written + " bytes (" + Bytes.human(written) + ") written in "
                + String.format(java.util.Locale.ROOT, "%.2f s", seconds) + ", epoch " + epoch);
        }
        out.flush();
        return ExitCodes.OK;
    }
}
