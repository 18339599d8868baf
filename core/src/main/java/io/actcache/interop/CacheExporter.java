package io.actcache.interop;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.actcache.InvalidKeyException;
import io.actcache.StoreIOException;
import io.actcache.cache.ActivationCache;
import io.actcache.cache.CacheValue;
import io.actcache.format.NpyFile;
import io.actcache.format.SafetensorsHeader;
import io.actcache.format.SafetensorsWriter;
import io.actcache.format.SafetensorsWriter.NamedView;
import io.actcache.store.ActivationStore;
import io.actcache.tensor.TensorView;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Exports an {@link ActivationCache} (a store, usually), or the keys a pattern selects, to safetensors or to NPY
 * files, streamed: tensor bytes go from the store's mapped columns to the output with channel writes, so a store
 * larger than the heap, or than RAM, exports in bounded memory.
 *
 * <pre>{@code
 * try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
 *     CacheExporter.export(store, Path.of("out"), ExportFormat.SAFETENSORS,
 *         ExportOptions.builder().shardSize(2_000_000_000L).build());
 * }
 * }</pre>
 *
 * <p>The target is a directory, built beside itself and renamed into place when complete (see
 * {@link ExportTarget}): an existing target is refused unless {@linkplain ExportOptions#force() replacing} is asked
 * for. Layouts:
 * <ul>
 *   <li>safetensors: {@code model.safetensors} when everything fits one shard of
 *       {@linkplain ExportOptions#shardSize() the shard size}, else {@code model-00001-of-0000N.safetensors} and
 *       {@code model.safetensors.index.json} ({@code metadata.total_size}, {@code weight_map}), as Hugging Face
 *       shards. Keys are assigned to shards in key order; a tensor larger than a shard gets one of its own. Each
 *       shard's {@code __metadata__} is the cache's metadata. A list key's items become tensors
 *       {@code key[0]}, {@code key[1]}, ....</li>
 *   <li>NPY: {@code <key>.npy} per dense key and {@code <key>.list/<i>.npy} per list item, file names made safe by
 *       {@link ExportFileNames}, and {@code actcache-export.json} listing keys, kinds, dtypes and files; importing
 *       the directory reads it back as one batch.</li>
 * </ul>
 * Confined to the caller's thread.
 */
public final class CacheExporter {
    /** Stem of safetensors file names, as Hugging Face names a model's files. */
    static final String STEM = "model";
    private static final JsonFactory JSON = new JsonFactory();

    private CacheExporter() {
    }

    /**
     * Exports a store's keys; the target may not lie inside the store.
     *
     * @param store   an open store (read-only is enough).
     * @param out     the target directory.
     * @param format  the format.
     * @param options keys, shard size, force, progress.
     * @return what was written.
     * @throws io.actcache.ExportTargetExistsException when the target exists and may not be replaced.
     * @throws IllegalArgumentException                when the target lies inside the store.
     * @throws InvalidKeyException                     when a key cannot be written as a tensor name.
     * @throws StoreIOException                        when a write fails; the target is then left as it was.
     */
    public static ExportReport export(final ActivationStore store, final Path out, final ExportFormat format,
        final ExportOptions options) {
        try (ActivationCache cache = ActivationCache.over(store)) {
            return export(cache, out, format, options, store.directory());
        }
    }

    /**
     * Exports a cache's keys.
     *
     * @param source  a cache (on the heap or over a store).
     * @param out     the target directory.
     * @param format  the format.
     * @param options keys, shard size, force, progress.
     * @return what was written.
     * @see #export(ActivationStore, Path, ExportFormat, ExportOptions)
     */
    public static ExportReport export(final ActivationCache source, final Path out, final ExportFormat format,
        final ExportOptions options) {
        return export(source, out, format, options, null);
    }

    private static ExportReport export(final ActivationCache source, final Path out, final ExportFormat format,
        final ExportOptions options, final Path storeDir) {
        final Map<String, CacheValue> selected = select(source, options.keys());
        final Map<String, String> metadata = source.metadata();
        final ByteProgress progress = new ByteProgress(options.progress());
        long tensors = 0;
        for (final CacheValue value : selected.values()) {
            progress.addToTotal(value.byteSize());
            tensors += value.items().size();
        }
        final List<NamedView> named = format == ExportFormat.SAFETENSORS ? tensorNames(selected) : null;
        progress.report();
        try (ExportTarget target = ExportTarget.prepare(out, options.force(), storeDir)) {
            final List<Path> files = format == ExportFormat.SAFETENSORS
                ? writeSafetensors(target.directory(), named, ListKeysMetadata.with(metadata, listKeys(selected)),
                    options.shardSize(), progress)
                : writeNpy(target.directory(), selected, metadata, progress);
            target.commit();
            progress.finish();
            return new ExportReport(target.target(), format, files, List.copyOf(selected.keySet()), tensors,
                progress.total());
        }
    }

    private static Map<String, CacheValue> select(final ActivationCache source, final Pattern keys) {
        final Map<String, CacheValue> selected = new LinkedHashMap<>();
        source.items().forEach((key, value) -> {
            if (keys == null || keys.matcher(key).matches()) {
                selected.put(key, value);
            }
        });
        return selected;
    }

    private static List<String> listKeys(final Map<String, CacheValue> selected) {
        final List<String> lists = new ArrayList<>();
        selected.forEach((key, value) -> {
            if (value.isList()) {
                lists.add(key);
            }
        });
        return lists;
    }

    /** @return one named view per dense key and per list item ({@code key[i]}), refusing names that collide. */
    private static List<NamedView> tensorNames(final Map<String, CacheValue> selected) {
        final List<NamedView> named = new ArrayList<>();
        final Set<String> names = new HashSet<>();
        for (final Map.Entry<String, CacheValue> entry : selected.entrySet()) {
            if (!entry.getValue().isList()) {
                named.add(new NamedView(entry.getKey(), entry.getValue().tensor()));
                names.add(entry.getKey());
            }
        }
        if (names.contains(SafetensorsHeader.METADATA_KEY)) {
            throw new InvalidKeyException("key '" + SafetensorsHeader.METADATA_KEY + "' cannot be exported to "
                + "safetensors, which reserves the name; export the other keys with a key pattern");
        }
        for (final Map.Entry<String, CacheValue> entry : selected.entrySet()) {
            final List<TensorView> items = entry.getValue().isList() ? entry.getValue().items() : List.of();
            for (int i = 0; i < items.size(); i++) {
                final String name = entry.getKey() + "[" + i + "]";
                if (!names.add(name)) {
                    throw new InvalidKeyException("cannot export item " + i + " of list key '" + entry.getKey()
                        + "' as tensor '" + name + "': a key of that name is exported too; export them separately "
                        + "with key patterns");
                }
                named.add(new NamedView(name, items.get(i)));
            }
        }
        return named;
    }

    private static List<Path> writeSafetensors(final Path dir, final List<NamedView> tensors,
        final Map<String, String> metadata, final long shardSize, final ByteProgress progress) {
        final List<List<NamedView>> shards = shards(tensors, shardSize);
        final List<Path> files = new ArrayList<>();
        final Map<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            final String name = shards.size() == 1 ? STEM + ".safetensors"
                : String.format("%s-%05d-of-%05d.safetensors", STEM, i + 1, shards.size());
            final Path file = dir.resolve(name);
            try (FileChannel channel = create(file)) {
                SafetensorsWriter.write(channel, metadata, shards.get(i), progress::add);
            } catch (final IOException e) {
                throw new StoreIOException(file + ": writing the export failed: " + e, e);
            }
            shards.get(i).forEach(tensor -> weightMap.put(tensor.name(), name));
            files.add(Path.of(name));
        }
        if (shards.size() > 1) {
            final String name = STEM + ".safetensors.index.json";
            writeIndex(dir.resolve(name), progress.total(), weightMap);
            files.add(Path.of(name));
        }
        return files;
    }

    /** @return the tensors cut into shards in order, each at most {@code shardSize} bytes unless one tensor is more. */
    static List<List<NamedView>> shards(final List<NamedView> tensors, final long shardSize) {
        final List<List<NamedView>> shards = new ArrayList<>();
        List<NamedView> current = new ArrayList<>();
        long bytes = 0;
        for (final NamedView tensor : tensors) {
            final long size = tensor.view().byteSize();
            if (!current.isEmpty() && bytes + size > shardSize) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(tensor);
            bytes += size;
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        return shards;
    }

    /** Writes Hugging Face's shard index: {@code {"metadata": {"total_size": N}, "weight_map": {name: file}}}. */
    private static void writeIndex(final Path file, final long totalSize, final Map<String, String> weightMap) {
        try (FileChannel channel = create(file); OutputStream out = Channels.newOutputStream(channel);
             JsonGenerator json = JSON.createGenerator(out)) {
            json.useDefaultPrettyPrinter();
            json.writeStartObject();
            json.writeObjectFieldStart("metadata");
            json.writeNumberField("total_size", totalSize);
            json.writeEndObject();
            json.writeObjectFieldStart("weight_map");
            for (final Map.Entry<String, String> entry : weightMap.entrySet()) {
                json.writeStringField(entry.getKey(), entry.getValue());
            }
            json.writeEndObject();
            json.writeEndObject();
        } catch (final IOException e) {
            throw new StoreIOException(file + ": writing the shard index failed: " + e, e);
        }
    }

    private static List<Path> writeNpy(final Path dir, final Map<String, CacheValue> selected,
        final Map<String, String> metadata, final ByteProgress progress) {
        final List<Path> files = new ArrayList<>();
        final List<NpyExportIndex.Entry> entries = new ArrayList<>();
        for (final Map.Entry<String, CacheValue> entry : selected.entrySet()) {
            final String stem = ExportFileNames.encode(entry.getKey());
            final CacheValue value = entry.getValue();
            final List<String> names = new ArrayList<>();
            if (value.isList()) {
                final Path listDir = dir.resolve(stem + ".list");
                try {
                    Files.createDirectory(listDir);
                } catch (final IOException e) {
                    throw new StoreIOException(listDir + ": cannot create the directory for list key '"
                        + entry.getKey() + "': " + e, e);
                }
                for (int i = 0; i < value.items().size(); i++) {
                    names.add(stem + ".list/" + i + ".npy");
                }
            } else {
                names.add(stem + ".npy");
            }
            final List<TensorView> views = value.items();
            for (int i = 0; i < names.size(); i++) {
                final Path file = dir.resolve(names.get(i));
                try (FileChannel channel = create(file)) {
                    NpyFile.write(views.get(i), channel, 0, progress::add);
                } catch (final IOException e) {
                    throw new StoreIOException(file + ": writing key '" + entry.getKey() + "' failed: " + e, e);
                }
                files.add(Path.of(names.get(i)));
            }
            entries.add(new NpyExportIndex.Entry(entry.getKey(), value.isList(), value.dtype(),
                value.isList() ? null : value.tensor().shape(), names));
        }
        NpyExportIndex.write(dir, metadata, entries);
        files.add(Path.of(NpyExportIndex.FILE_NAME));
        return files;
    }

    private static FileChannel create(final Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
}
