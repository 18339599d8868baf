package io.actcache.cuda;

import io.actcache.KeySetMismatchException;
import io.actcache.ShapeMismatchException;
import io.actcache.cache.ActivationCache;
import io.actcache.cache.Aggregation;
import io.actcache.cache.AggregationRegistry;
import io.actcache.cache.CacheValue;
import io.actcache.cache.DeferredMerge;
import io.actcache.store.ActivationStore;
import io.actcache.tensor.DType;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A batch cache resident on the device: key to {@link DeviceTensor}, the counterpart of the references'
 * {@code cache.to("cuda")}. {@link #toDevice} uploads an {@link ActivationCache}, {@link #toHost()} brings it back
 * ({@code cpu()}), {@link #cat} merges device-resident batches on the device by the registry's aggregations, and
 * {@link #appendTo} streams every key into a store's columns. Owns its tensors: {@link #close()} frees them.
 *
 * <p>Device caches hold one tensor per key; list values ({@code keepList}) and user strategies stay on the CPU path
 * ({@link GpuCacheMerge} picks it for them). One thread at a time.
 */
public final class DeviceCache implements AutoCloseable {
    private final Map<String, DeviceTensor> tensors;
    private boolean closed;

    private DeviceCache(final Map<String, DeviceTensor> tensors) {
        this.tensors = tensors;
    }

    /**
     * Uploads every key of a cache (mapped store pages or heap tensors) through the context's staging buffers.
     *
     * @param context the device.
     * @param cache   a cache whose values are tensors, not lists.
     * @return the device copy; on failure nothing stays allocated.
     * @throws ShapeMismatchException naming the first key that holds a list.
     */
    public static DeviceCache toDevice(final GpuContext context, final ActivationCache cache) {
        return upload(context, cache, view -> context.allocate(view.dtype(), view.shape()));
    }

    /**
     * Uploads every key of a cache into tensors counted against an engine's budget.
     *
     * @param engine the engine whose budget the tensors count against.
     * @param cache  a cache whose values are tensors, not lists.
     * @return the device copy; on failure nothing stays allocated.
     * @throws ShapeMismatchException     naming the first key that holds a list.
     * @throws DeviceOutOfMemoryException when the batch does not fit the budget or the device.
     */
    public static DeviceCache toDevice(final GpuMergeEngine engine, final ActivationCache cache) {
        return upload(engine.context(), cache, view -> engine.allocate(view.dtype(), view.shape()));
    }

    private static DeviceCache upload(final GpuContext context, final ActivationCache cache,
        final Function<TensorView, DeviceTensor> allocator) {
        for (final String key : cache.keys()) {
            final CacheValue value = cache.value(key);
            if (value.isList()) {
                throw new ShapeMismatchException("cannot move key '" + key + "' to the GPU: it holds a list of "
                    + value.items().size() + " " + value.dtype() + " tensors; device caches hold one tensor per key");
            }
        }
        final Map<String, DeviceTensor> uploaded = new LinkedHashMap<>();
        boolean success = false;
        try {
            for (final String key : cache.keys()) {
                final TensorView view = cache.get(key);
                final DeviceTensor tensor = allocator.apply(view);
                uploaded.put(key, tensor);
                context.upload(view, tensor, 0);
            }
            success = true;
            return new DeviceCache(uploaded);
        } finally {
            if (!success) {
                closeAll(uploaded.values());
            }
        }
    }

    /**
     * Merges device-resident batches on the device, each key by the aggregation {@code registry} picks for it:
     * concat, stack, flatten, first, sum and mean. Key sets must be equal.
     *
     * @param engine   the engine (and its budget) that allocates the results.
     * @param registry how keys merge.
     * @param batches  the batches in merge order, at least one.
     * @return the merged cache; the batches are left as they were.
     * @throws KeySetMismatchException       naming the keys that differ; nothing is allocated.
     * @throws UnsupportedOperationException naming a key whose aggregation the GPU path does not run (keepList or a
     *                                       user strategy); nothing is allocated.
     */
    public static DeviceCache cat(final GpuMergeEngine engine, final AggregationRegistry registry,
        final List<DeviceCache> batches) {
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("cat needs at least one device batch");
        }
        final List<String> keys = batches.get(0).keys();
        for (final DeviceCache batch : batches) {
            batch.checkOpen();
            checkKeys(keys, batch.keys());
        }
        for (final String key : keys) {
            final Aggregation aggregation = registry.resolve(key).aggregation();
            if (!runsOnDevice(aggregation)) {
                throw new UnsupportedOperationException("key '" + key + "' merges by " + registry.resolve(key)
                    + ", which the GPU path does not run; use the CPU path (GpuCacheMerge chooses it)");
            }
        }
        final Map<String, DeviceTensor> merged = new LinkedHashMap<>();
        boolean success = false;
        try {
            for (final String key : keys) {
                final List<DeviceTensor> parts = new ArrayList<>(batches.size());
                batches.forEach(batch -> parts.add(batch.tensors.get(key)));
                merged.put(key, mergeKey(engine, key, registry.resolve(key).aggregation(), parts));
            }
            success = true;
            return new DeviceCache(merged);
        } finally {
            if (!success) {
                closeAll(merged.values());
            }
        }
    }

    /**
     * @param aggregation an aggregation.
     * @return true when {@link #cat} runs it on the device.
     */
    public static boolean runsOnDevice(final Aggregation aggregation) {
        return aggregation == Aggregation.concat() || aggregation == Aggregation.stack()
            || aggregation == Aggregation.flatten() || aggregation == Aggregation.first()
            || aggregation == Aggregation.sum() || aggregation == Aggregation.mean();
    }

    private static DeviceTensor mergeKey(final GpuMergeEngine engine, final String key, final Aggregation aggregation,
        final List<DeviceTensor> parts) {
        if (aggregation == Aggregation.stack()) {
            return engine.stack(key, parts);
        }
        if (aggregation == Aggregation.flatten()) {
            return engine.flatten(key, parts);
        }
        if (aggregation == Aggregation.first()) {
            return engine.copy(key, parts.get(0));
        }
        if (aggregation == Aggregation.sum()) {
            return engine.sum(key, parts);
        }
        if (aggregation == Aggregation.mean()) {
            return engine.mean(key, parts);
        }
        return engine.concat(key, parts);
    }

    /** @return the keys in order. */
    public List<String> keys() {
        checkOpen();
        return List.copyOf(tensors.keySet());
    }

    /**
     * @param key a key.
     * @return its device tensor (owned by this cache).
     * @throws io.actcache.KeyNotFoundException naming the key.
     */
    public DeviceTensor get(final String key) {
        checkOpen();
        final DeviceTensor tensor = tensors.get(key);
        if (tensor == null) {
            throw new io.actcache.KeyNotFoundException("key '" + key + "' is not in this device cache; keys: "
                + tensors.keySet());
        }
        return tensor;
    }

    /** @return an unmodifiable view of key to tensor. */
    public Map<String, DeviceTensor> tensors() {
        checkOpen();
        return Collections.unmodifiableMap(tensors);
    }

    /** @return device bytes held. */
    public long byteSize() {
        checkOpen();
        return tensors.values().stream().mapToLong(DeviceTensor::byteSize).sum();
    }

    /**
     * @return a new cache on the heap holding host copies of every key.
     * @throws io.actcache.CapacityExceededException when a tensor is larger than a host tensor may be (use
     *                                               {@link #appendTo}).
     */
    public ActivationCache toHost() {
        checkOpen();
        final ActivationCache host = ActivationCache.onHeap();
        tensors.forEach((key, tensor) -> host.put(key, tensor.toHost()));
        return host;
    }

    /**
     * Sets every key of a target cache to this cache's tensor, in one commit for a store-backed target: tensors a
     * host tensor can hold are downloaded to the heap, larger ones streamed into the store's columns through
     * page-locked buffers.
     *
     * @param target a cache (its other keys are kept).
     */
    public void putInto(final ActivationCache target) {
        checkOpen();
        final List<DeviceDownload> downloads = new ArrayList<>();
        try {
            final Map<String, TensorView> values = new LinkedHashMap<>();
            for (final Map.Entry<String, DeviceTensor> entry : tensors.entrySet()) {
                final DeviceTensor tensor = entry.getValue();
                if (tensor.byteSize() <= Tensor.MAX_BYTES) {
                    values.put(entry.getKey(), tensor.toHost().view());
                } else {
                    final DeviceDownload download = tensor.openDownload();
                    downloads.add(download);
                    values.put(entry.getKey(), download.view());
                }
            }
            target.update(values);
        } finally {
            downloads.forEach(DeviceDownload::close);
        }
    }

    /**
     * {@code cat} of device-resident batches into a host cache (on the heap or store-backed), with the result
     * {@code target.cat(b)} for each batch in order gives. An empty target whose keys all merge on the device (no
     * mean, whose running sum the target must keep) gets the device merge in one commit; otherwise every batch is
     * downloaded and merged by the target's own (CPU) path, all or nothing.
     *
     * @param engine  the engine for the device merge.
     * @param target  the cache to merge into; its aggregations decide.
     * @param batches device batches in merge order, at least one.
     * @return {@code gpu} or {@code cpu: <reason>}: which path merged.
     */
    public static String catInto(final GpuMergeEngine engine, final ActivationCache target,
        final List<DeviceCache> batches) {
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("cat needs at least one device batch");
        }
        final AggregationRegistry registry = target.aggregations();
        String cpuReason = target.isEmpty() ? null : "the target already holds keys";
        for (final String key : batches.get(0).keys()) {
            final Aggregation aggregation = registry.resolve(key).aggregation();
            if (cpuReason == null && (!runsOnDevice(aggregation) || aggregation == Aggregation.mean())) {
                cpuReason = "key '" + key + "' merges by " + registry.resolve(key);
            }
            // Every batch's dtype, not only the first's: a later I32 term must send the merge to the CPU too.
            for (final DeviceCache batch : batches) {
                final DType dtype = batch.keys().contains(key) ? batch.get(key).dtype() : DType.F32;
                if (cpuReason == null && aggregation == Aggregation.sum() && dtype != DType.F32
                    && dtype != DType.F16 && dtype != DType.BF16) {
                    cpuReason = "key '" + key + "' sums " + dtype + " (the GPU reduces F32, F16 and BF16)";
                }
            }
        }
        if (cpuReason == null) {
            try (DeviceCache merged = cat(engine, registry, batches)) {
                merged.putInto(target);
            }
            return "gpu";
        }
        final DeferredMerge merge = target.deferred();
        try {
            for (final DeviceCache batch : batches) {
                merge.cat(batch.toHost());
            }
        } catch (final RuntimeException e) {
            merge.discard();
            throw e;
        }
        merge.close();
        return "cpu: " + cpuReason;
    }

    /**
     * Appends every key to the store's column of the same name, as one commit, each streamed through page-locked
     * buffers.
     *
     * @param store a writable store.
     */
    public void appendTo(final ActivationStore store) {
        checkOpen();
        final List<DeviceDownload> downloads = new ArrayList<>();
        try (ActivationStore.Batch batch = store.batch()) {
            for (final Map.Entry<String, DeviceTensor> entry : tensors.entrySet()) {
                final DeviceDownload download = entry.getValue().openDownload();
                downloads.add(download);
                batch.append(entry.getKey(), download.view());
            }
            batch.commit();
        } finally {
            downloads.forEach(DeviceDownload::close);
        }
    }

    private static void checkKeys(final List<String> expected, final List<String> actual) {
        if (new TreeSet<>(expected).equals(new TreeSet<>(actual))) {
            return;
        }
        final Set<String> onlyHere = new TreeSet<>(expected);
        actual.forEach(onlyHere::remove);
        final Set<String> onlyThere = new TreeSet<>(actual);
        expected.forEach(onlyThere::remove);
        throw new KeySetMismatchException("cannot cat device caches with different keys: keys only in the first "
            + onlyHere + ", keys only in the other " + onlyThere + "; nothing was merged");
    }

    private void checkOpen() {
        if (closed) {
            throw new io.actcache.AlreadyClosedException("device cache is closed");
        }
    }

    private static void closeAll(final Iterable<DeviceTensor> tensors) {
        RuntimeException failure = null;
        for (final DeviceTensor tensor : tensors) {
            try {
                tensor.close();
            } catch (final RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Frees every tensor. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeAll(tensors.values());
        }
    }

    @Override
    public String toString() {
        return closed ? "DeviceCache[closed]" : "DeviceCache" + tensors.values();
    }
}
