package io.actcache.interop;

import io.actcache.ActCacheException;
import io.actcache.InputNotFoundException;
import io.actcache.UnsupportedFormatException;
import io.actcache.cache.ActivationCache;
import io.actcache.format.MappingBudget;
import io.actcache.cache.DeferredMerge;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Imports safetensors and NPY files into an {@link ActivationCache} (over a store, usually): each file is one batch
 * cache, merged in order with the cache's {@linkplain io.actcache.cache.AggregationRegistry aggregations}, as
 * {@code cat} merges batches a PyTorch hook dumped.
 *
 * <pre>{@code
 * try (ActivationStore store = ActivationStore.open(dir); ActivationCache cache = ActivationCache.over(store)) {
 *     ImportReport report = CacheImporter.importFiles(cache, List.of(Path.of("dumps")), ImportOptions.defaults());
 * }
 * }</pre>
 *
 * <p>Inputs: a {@code .safetensors} file (one batch of its tensors); a {@code .npy} file (one batch of one key, the
 * file's stem); a directory holding an NPY export ({@code actcache-export.json}: one batch of every key it lists);
 * a directory holding a sharded safetensors checkpoint (a {@code *.safetensors.index.json}: one batch of every
 * shard's tensors); any other directory, expanded into its {@code .safetensors} and {@code .npy} files in natural order
 * ({@code batch_2} before {@code batch_10}; not recursively; names starting with a dot are skipped).
 *
 * <p>All or nothing: every file's header is read and checked first, the batches' keys are checked against the
 * target as they are collected, and the merge is one {@link DeferredMerge}, one commit. Any bad input (a missing,
 * truncated or malformed file, an unsupported dtype, a name that is not a valid key, a batch whose keys, dtypes or
 * shapes do not fit) throws before that commit, with a message that starts with the file at fault, and leaves the
 * target unchanged. The files' metadata, when {@linkplain ImportOptions#metadata() asked for}, is committed right
 * after the tensors (names the target lacks, first file first).
 *
 * <p>Memory: the heap holds the headers; tensor bytes go from the mapped input files to the store's columns with
 * channel writes, a few mapped chunks per file at a time. Confined to the caller's thread.
 */
public final class CacheImporter {
    private CacheImporter() {
    }

    /**
     * Merges every input into {@code target} as one commit.
     *
     * @param target  the cache to merge into (writable).
     * @param inputs  files and directories, in order.
     * @param options key pattern, metadata, progress.
     * @return what was imported.
     * @throws InputNotFoundException              naming a missing input or a directory without inputs.
     * @throws io.actcache.BadFileFormatException  naming the file (and tensor) for a malformed file.
     * @throws UnsupportedFormatException          naming the file for a format, dtype or rank actcache does not read.
     * @throws io.actcache.InvalidKeyException     naming the file when a name is not a valid key.
     * @throws io.actcache.KeyNotFoundException    naming the file when the key pattern matches none of its tensors.
     * @throws io.actcache.KeySetMismatchException naming the file whose keys differ from the target's.
     * @throws io.actcache.ShapeMismatchException  naming the file whose dtype or shape does not fit a key.
     */
    public static ImportReport importFiles(final ActivationCache target, final List<Path> inputs,
        final ImportOptions options) {
        final List<Path> sources = expand(inputs);
        final ByteProgress progress = new ByteProgress(options.progress());
        final List<InputBatch> batches = new ArrayList<>(sources.size());
        // Every batch stays open until the one commit; their files share one bound on live mappings.
        final MappingBudget mappings = MappingBudget.defaults();
        RuntimeException primary = null;
        try {
            long tensors = 0;
            for (final Path source : sources) {
                final InputBatch batch = InputBatch.open(source, options.keys(), progress::add, mappings);
                batches.add(batch);
                progress.addToTotal(batch.bytes());
                tensors += batch.tensors();
            }
            final Map<String, String> metadata = options.metadata() ? newMetadata(target, batches) : Map.of();
            progress.report();
            merge(target, batches);
            if (!metadata.isEmpty()) {
                target.putMetadata(metadata);
            }
            progress.finish();
            return new ImportReport(sources, tensors, progress.total(), target.keys(), metadata);
        } catch (final RuntimeException e) {
            primary = e;
            throw e;
        } finally {
            closeAll(batches, primary);
        }
    }

    /**
     * Lists what {@link #importFiles} would read, in merge order.
     *
     * @param inputs files and directories.
     * @return the batches' sources: files, and NPY export directories.
     * @throws InputNotFoundException     naming a missing input, or a directory holding nothing to import.
     * @throws UnsupportedFormatException naming a file that is neither {@code .safetensors} nor {@code .npy}.
     */
    public static List<Path> expand(final List<Path> inputs) {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("nothing to import: no files or directories given");
        }
        final List<Path> sources = new ArrayList<>();
        for (final Path input : inputs) {
            if (!Files.exists(input)) {
                throw new InputNotFoundException(input + ": no such file or directory");
            }
            final boolean oneBatch = NpyExportIndex.isExport(input) || ShardIndex.indexOf(input) != null;
            if (Files.isDirectory(input) && !oneBatch) {
                final List<Path> found = listDirectory(input);
                if (found.isEmpty()) {
                    throw new InputNotFoundException(input + ": the directory holds no .safetensors or .npy file");
                }
                sources.addAll(found);
            } else if (Files.isDirectory(input) || isImportable(input)) {
                sources.add(input);
            } else {
                throw new UnsupportedFormatException(input + ": not a .safetensors or .npy file (nor a directory of "
                    + "them)");
            }
        }
        return sources;
    }

    private static List<Path> listDirectory(final Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isRegularFile)
                .filter(path -> !path.getFileName().toString().startsWith("."))
                .filter(CacheImporter::isImportable)
                .sorted(NaturalOrder.PATHS)
                .toList();
        } catch (final IOException e) {
            throw new io.actcache.StoreIOException(dir + ": cannot list the directory: " + e, e);
        }
    }

    private static boolean isImportable(final Path path) {
        final String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".safetensors") || name.endsWith(".npy");
    }

    /** Collects every batch into one deferred merge; nothing is written unless all of them fit. */
    private static void merge(final ActivationCache target, final List<InputBatch> batches) {
        final DeferredMerge merge = target.deferred();
        try {
            for (final InputBatch batch : batches) {
                merge.cat(batch.cache(), batch.source().toString());
            }
        } catch (final RuntimeException e) {
            merge.discard();
            throw e;
        }
        merge.close();
    }

    /** @return metadata names the target lacks, from the batches in order (the first value of a name wins). */
    private static Map<String, String> newMetadata(final ActivationCache target, final List<InputBatch> batches) {
        final Map<String, String> existing = target.metadata();
        final Map<String, String> added = new LinkedHashMap<>();
        for (final InputBatch batch : batches) {
            batch.metadata().forEach((name, value) -> {
                if (!existing.containsKey(name)) {
                    added.putIfAbsent(name, value);
                }
            });
        }
        return added;
    }

    /** Closes every batch; failures are added to {@code primary} when there is one, else the first is thrown. */
    private static void closeAll(final List<InputBatch> batches, final RuntimeException primary) {
        RuntimeException failure = primary;
        for (final InputBatch batch : batches) {
            try {
                batch.close();
            } catch (final ActCacheException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null && failure != primary) {
            throw failure;
        }
    }
}
