package io.actcache.interop;

import io.actcache.ActCacheException;
import io.actcache.BadFileFormatException;
import io.actcache.InvalidKeyException;
import io.actcache.KeyNotFoundException;
import io.actcache.cache.ActivationCache;
import io.actcache.format.MappingBudget;
import io.actcache.format.NpyFile;
import io.actcache.format.SafetensorsFile;
import io.actcache.store.ActivationStore;
import io.actcache.tensor.TensorView;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One input opened as one batch: a heap {@link ActivationCache} whose values are views over the input's mapped
 * files (nothing is copied until the merge writes them), with the input's metadata. Inputs: a safetensors file (its
 * tensors, {@code key[i]} items folded back into list keys), a sharded safetensors checkpoint (a directory with a
 * {@code *.safetensors.index.json}), a loose NPY file (one key, named by the file's stem), or an NPY export directory
 * (every key its index lists). Closing unmaps the files. One thread only.
 */
final class InputBatch implements AutoCloseable {
    private static final int LISTED_NAMES = 10;
    /** A LIST key's item as an export names it: {@code key[3]}, no leading zeros. */
    private static final Pattern LIST_ITEM = Pattern.compile("(.+)\\[(0|[1-9][0-9]*)\\]");

    private final Path source;
    private final MappingBudget budget;
    private final ActivationCache cache = ActivationCache.onHeap();
    private final List<AutoCloseable> files = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private long bytes;
    private long tensors;

    private InputBatch(final Path source, final MappingBudget budget) {
        this.source = source;
        this.budget = budget;
    }

    /**
     * @param source    a {@code .safetensors} file, a {@code .npy} file, or an NPY export directory.
     * @param keys      the pattern tensor names must match entirely, or null for all.
     * @param bytesRead receives counts of tensor bytes as the merge reads them.
     * @param budget    the bound on mapped chunks the batch's files share with the other batches of the import.
     * @return the open batch.
     * @throws BadFileFormatException naming the file (and tensor) for a malformed input.
     * @throws InvalidKeyException    naming the file when a tensor or metadata name is not a valid key.
     * @throws KeyNotFoundException   naming the file when the pattern matches none of its tensors.
     */
    static InputBatch open(final Path source, final Pattern keys, final LongConsumer bytesRead,
        final MappingBudget budget) {
        final InputBatch batch = new InputBatch(source, budget);
        try {
            final List<String> names = new ArrayList<>();
            final Path shardIndex = ShardIndex.indexOf(source);
            if (NpyExportIndex.isExport(source)) {
                batch.readExport(keys, bytesRead, names);
            } else if (source.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".npy")) {
                final NpyFile file = batch.track(NpyFile.open(source, bytesRead, budget));
                final String stem = source.getFileName().toString();
                final String key = ExportFileNames.decode(stem.substring(0, stem.length() - ".npy".length()));
                names.add(key);
                if (matches(keys, key)) {
                    batch.put(key, file.tensor());
                }
            } else if (shardIndex != null) {
                batch.readShards(shardIndex, keys, bytesRead, names);
            } else {
                final SafetensorsFile file = batch.track(SafetensorsFile.open(source, bytesRead, budget));
                names.addAll(file.names());
                batch.putTensors(file.tensors(), ListKeysMetadata.read(file.metadata(), source), keys);
                batch.putSafetensorsMetadata(file.metadata());
            }
            if (keys != null && batch.tensors == 0 && !names.isEmpty()) {
                throw new KeyNotFoundException(source + ": no tensor name matches the key pattern '" + keys.pattern()
                    + "'; the file holds " + names.subList(0, Math.min(LISTED_NAMES, names.size()))
                    + (names.size() > LISTED_NAMES ? " and " + (names.size() - LISTED_NAMES) + " more" : ""));
            }
            return batch;
        } catch (final RuntimeException e) {
            batch.closeQuietly(e);
            throw e;
        }
    }

    /** @return the input, which names this batch in messages. */
    Path source() {
        return source;
    }

    /** @return the batch's values (views over the input). */
    ActivationCache cache() {
        return cache;
    }

    /** @return the input's metadata, in its order. */
    Map<String, String> metadata() {
        return metadata;
    }

    /** @return tensor bytes in the batch. */
    long bytes() {
        return bytes;
    }

    /** @return tensors in the batch (a list key counts each item). */
    long tensors() {
        return tensors;
    }

    /** Unmaps the input's files. */
    @Override
    public void close() {
        ActCacheException failure = null;
        for (final AutoCloseable file : files) {
            try {
                file.close();
            } catch (final Exception e) {
                if (failure == null) {
                    failure = new ActCacheException(source + ": closing failed: " + e, e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        files.clear();
        cache.close();
        if (failure != null) {
            throw failure;
        }
    }

    private void readExport(final Pattern keys, final LongConsumer bytesRead, final List<String> names) {
        final Path dir = source.toAbsolutePath().normalize();
        final Map.Entry<Map<String, String>, List<NpyExportIndex.Entry>> index = NpyExportIndex.read(dir);
        final Path indexFile = dir.resolve(NpyExportIndex.FILE_NAME);
        for (final NpyExportIndex.Entry entry : index.getValue()) {
            names.add(entry.key());
            if (!matches(keys, entry.key())) {
                continue;
            }
            final List<TensorView> items = new ArrayList<>();
            for (final String name : entry.files()) {
                final TensorView view = track(NpyFile.open(dir.resolve(name), bytesRead, budget)).tensor();
                if (view.dtype() != entry.dtype() || !entry.list() && !view.shape().equals(entry.shape())) {
                    throw new BadFileFormatException(indexFile + ": key '" + entry.key() + "' is listed as "
                        + entry.dtype() + (entry.list() ? "" : " " + entry.shape()) + ", but " + dir.resolve(name)
                        + " holds " + view.dtype() + " " + view.shape());
                }
                items.add(view);
            }
            if (entry.list()) {
                putList(entry.key(), items);
            } else {
                put(entry.key(), items.get(0));
            }
        }
        index.getKey().forEach(this::putMetadata);
    }

    /** Reads a sharded checkpoint as one batch: every shard its weight map names, checked against it. */
    private void readShards(final Path index, final Pattern keys, final LongConsumer bytesRead,
        final List<String> names) {
        final Map<String, Path> weightMap = ShardIndex.weightMap(index);
        final Map<String, TensorView> tensors = new LinkedHashMap<>();
        Set<String> listKeys = null;
        boolean first = true;
        for (final Path shard : ShardIndex.shards(weightMap)) {
            final SafetensorsFile file = track(SafetensorsFile.open(shard, bytesRead, budget));
            for (final Map.Entry<String, TensorView> tensor : file.tensors().entrySet()) {
                if (!shard.equals(weightMap.get(tensor.getKey()))) {
                    throw new BadFileFormatException(shard + ": tensor '" + tensor.getKey() + "' is not mapped to "
                        + "this shard by " + index + " (it says " + weightMap.get(tensor.getKey()) + ")");
                }
                tensors.put(tensor.getKey(), tensor.getValue());
            }
            if (first) {
                listKeys = ListKeysMetadata.read(file.metadata(), shard);
                putSafetensorsMetadata(file.metadata());
                first = false;
            }
        }
        for (final String name : weightMap.keySet()) {
            if (!tensors.containsKey(name)) {
                throw new BadFileFormatException(index + ": tensor '" + name + "' is mapped to "
                    + weightMap.get(name) + ", which does not hold it");
            }
        }
        names.addAll(tensors.keySet());
        putTensors(tensors, listKeys, keys);
    }

    /**
     * Puts a safetensors file's tensors; names {@code base[0]}, {@code base[1]}, ... (as {@link CacheExporter} writes a
     * LIST key) become the list key {@code base} again: for exactly the keys the file's {@link ListKeysMetadata}
     * names when it has one, else whenever the indices run from 0 without gaps and no tensor is named {@code base}.
     *
     * @param listKeys the list keys the file records, or null.
     */
    private void putTensors(final Map<String, TensorView> tensors, final Set<String> listKeys, final Pattern keys) {
        final Map<String, List<TensorView>> lists = listKeys == null ? listItems(tensors) : declaredLists(tensors,
            listKeys);
        final Set<String> folded = new HashSet<>();
        for (final Map.Entry<String, TensorView> tensor : tensors.entrySet()) {
            final Matcher item = LIST_ITEM.matcher(tensor.getKey());
            final String base = item.matches() && lists.containsKey(item.group(1)) ? item.group(1) : null;
            if (base == null) {
                if (matches(keys, tensor.getKey())) {
                    put(tensor.getKey(), tensor.getValue());
                }
            } else if (folded.add(base) && matches(keys, base)) {
                putList(base, lists.get(base));
            }
        }
    }

    /** @return each declared list key's items {@code key[0]} .. {@code key[n-1]}, refusing gaps and strays. */
    private Map<String, List<TensorView>> declaredLists(final Map<String, TensorView> tensors,
        final Set<String> listKeys) {
        final Map<String, List<TensorView>> lists = new LinkedHashMap<>();
        for (final String base : listKeys) {
            final List<TensorView> items = new ArrayList<>();
            for (TensorView item; (item = tensors.get(base + "[" + items.size() + "]")) != null; ) {
                items.add(item);
            }
            if (tensors.containsKey(base)) {
                throw new BadFileFormatException(source + ": metadata '" + ListKeysMetadata.NAME + "' names '" + base
                    + "' a list key, but a tensor has that name too");
            }
            if (!items.isEmpty()) {
                lists.put(base, items);
            }
        }
        for (final String name : tensors.keySet()) {
            final Matcher item = LIST_ITEM.matcher(name);
            if (item.matches() && lists.containsKey(item.group(1)) && (item.group(2).length() >= 10
                || Integer.parseInt(item.group(2)) >= lists.get(item.group(1)).size())) {
                throw new BadFileFormatException(source + ": tensor '" + name + "' is an item of list key '"
                    + item.group(1) + "', whose items must be numbered from 0 without gaps; it has "
                    + lists.get(item.group(1)).size() + " before the gap");
            }
        }
        return lists;
    }

    /** Puts the file's metadata, but for the entry an export records its list keys in. */
    private void putSafetensorsMetadata(final Map<String, String> fileMetadata) {
        fileMetadata.forEach((name, value) -> {
            if (!name.equals(ListKeysMetadata.NAME)) {
                putMetadata(name, value);
            }
        });
    }

    private static Map<String, List<TensorView>> listItems(final Map<String, TensorView> tensors) {
        final Map<String, java.util.TreeMap<Integer, TensorView>> candidates = new LinkedHashMap<>();
        for (final Map.Entry<String, TensorView> tensor : tensors.entrySet()) {
            final Matcher item = LIST_ITEM.matcher(tensor.getKey());
            if (item.matches() && item.group(2).length() < 10 && !tensors.containsKey(item.group(1))) {
                candidates.computeIfAbsent(item.group(1), base -> new java.util.TreeMap<>())
                    .put(Integer.parseInt(item.group(2)), tensor.getValue());
            }
        }
        final Map<String, List<TensorView>> lists = new LinkedHashMap<>();
        candidates.forEach((base, items) -> {
            if (items.firstKey() == 0 && items.lastKey() == items.size() - 1) {
                lists.put(base, new ArrayList<>(items.values()));
            }
        });
        return lists;
    }

    private void put(final String key, final TensorView view) {
        try {
            cache.put(key, view);
        } catch (final InvalidKeyException e) {
            throw new InvalidKeyException(source + ": tensor name is not a valid key: " + e.getMessage(), e);
        }
        bytes += view.byteSize();
        tensors++;
    }

    private void putList(final String key, final List<TensorView> items) {
        try {
            cache.putList(key, items);
        } catch (final InvalidKeyException e) {
            throw new InvalidKeyException(source + ": key is not valid: " + e.getMessage(), e);
        }
        for (final TensorView item : items) {
            bytes += item.byteSize();
            tensors++;
        }
    }

    private void putMetadata(final String name, final String value) {
        final int length = value.getBytes(StandardCharsets.UTF_8).length;
        if (length > ActivationStore.MAX_METADATA_VALUE_BYTES) {
            throw new BadFileFormatException(source + ": metadata '" + name + "' is " + length + " UTF-8 bytes, above "
                + "the store's limit of " + ActivationStore.MAX_METADATA_VALUE_BYTES);
        }
        try {
            cache.putMetadata(name, value);
        } catch (final InvalidKeyException e) {
            throw new InvalidKeyException(source + ": metadata name is not valid: " + e.getMessage(), e);
        }
        metadata.put(name, value);
    }

    private <T extends AutoCloseable> T track(final T file) {
        files.add(file);
        return file;
    }

    private void closeQuietly(final RuntimeException primary) {
        try {
            close();
        } catch (final RuntimeException e) {
            primary.addSuppressed(e);
        }
    }

    private static boolean matches(final Pattern keys, final String name) {
        return keys == null || keys.matcher(name).matches();
    }
}
