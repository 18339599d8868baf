package io.actcache.cuda;

import io.actcache.cache.ActivationCache;
import io.actcache.cache.AggregationRegistry;
import io.actcache.cache.Aggregation;
import io.actcache.cache.CacheValue;
import io.actcache.cache.DeferredMerge;
import io.actcache.tensor.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code cat} of batch caches into a target cache on the GPU when it can run there, on the CPU otherwise, with
 * the same result either way: the CPU path serves every call the GPU path cannot (no GPU, a target that already
 * holds keys, list values, keepList, mean or user aggregations, dtypes other than F32/F16/BF16 under sum).
 * {@link #lastPath()} says which path ran and why.
 *
 * <p>The GPU path uploads the batches, merges them with {@link DeviceCache#cat}, and puts the results into the
 * empty target in one commit (downloaded to host tensors, or streamed into a store-backed target's columns). A
 * mean stays on the CPU because the target must keep its hidden running sum for later merges.
 */
public final class GpuCacheMerge {
    private final long budgetBytes;
    private String lastPath = "";

    /**
     * @param budgetBytes device bytes the GPU path may use at once (batches and results together).
     */
    public GpuCacheMerge(final long budgetBytes) {
        if (budgetBytes < 1) {
            throw new IllegalArgumentException("GPU merge budget must be at least 1 byte, got " + budgetBytes);
        }
        this.budgetBytes = budgetBytes;
    }

    /** @return {@code gpu: ...} or {@code cpu: <reason>} for the last {@link #cat}. */
    public String lastPath() {
        return lastPath;
    }

    /**
     * Merges batches into a target as {@code target.cat(b)} for each batch in order would, all or nothing.
     *
     * @param target  the cache to merge into; its aggregations decide.
     * @param batches the batches, in merge order.
     */
    public void cat(final ActivationCache target, final List<ActivationCache> batches) {
        final String cpuReason = cpuReason(target, batches);
        if (cpuReason != null) {
            catOnCpu(target, batches, cpuReason);
            return;
        }
        final GpuContext opened;
        try {
            opened = GpuContext.open();
        } catch (final RuntimeException e) {
            // A driver that loads but cannot run our kernels (too old for the PTX, an older GPU) is no GPU to use.
            catOnCpu(target, batches, "cannot open a GPU context: " + e.getMessage());
            return;
        }
        try (GpuContext context = opened) {
            lastPath = "gpu: " + context.deviceName();
            catOnGpu(context, target, batches);
        }
    }

    private void catOnCpu(final ActivationCache target, final List<ActivationCache> batches, final String reason) {
        lastPath = "cpu: " + reason;
        final DeferredMerge merge = target.deferred();
        try {
            batches.forEach(merge::cat);
        } catch (final RuntimeException e) {
            merge.discard(); // closing would merge the batches collected before the failure
            throw e;
        }
        merge.close();
    }

    private void catOnGpu(final GpuContext context, final ActivationCache target, final List<ActivationCache> batches) {
        final GpuMergeEngine engine = new GpuMergeEngine(context, budgetBytes);
        final List<DeviceCache> onDevice = new ArrayList<>(batches.size());
        try {
            for (final ActivationCache batch : batches) {
                onDevice.add(DeviceCache.toDevice(engine, batch));
            }
            try (DeviceCache merged = DeviceCache.cat(engine, target.aggregations(), onDevice)) {
                onDevice.forEach(DeviceCache::close); // free the batches before the results come down
                merged.putInto(target);
            }
        } finally {
            onDevice.forEach(DeviceCache::close);
        }
    }

    /**
     * @return why the CPU path must serve this merge, or null when the GPU path can.
     */
    static String cpuReason(final ActivationCache target, final List<ActivationCache> batches) {
        final GpuAvailability gpu = GpuContext.isAvailable();
        if (!gpu.isAvailable()) {
            return gpu.reason();
        }
        if (batches.isEmpty()) {
            return "no batches";
        }
        if (!target.isEmpty()) {
            return "the target already holds keys (the GPU path fills an empty target)";
        }
        final AggregationRegistry registry = target.aggregations();
        for (final ActivationCache batch : batches) {
            for (final String key : batch.keys()) {
                final Aggregation aggregation = registry.resolve(key).aggregation();
                final CacheValue value = batch.value(key);
                if (value.isList()) {
                    return "key '" + key + "' holds a list";
                }
                if (!DeviceCache.runsOnDevice(aggregation) || aggregation == Aggregation.mean()) {
                    return "key '" + key + "' merges by " + registry.resolve(key);
                }
                if (aggregation == Aggregation.sum() && value.dtype() != DType.F32 && value.dtype() != DType.F16
                    && value.dtype() != DType.BF16) {
                    return "key '" + key + "' sums " + value.dtype() + " (the GPU reduces F32, F16 and BF16)";
                }
            }
        }
        return null;
    }
}
