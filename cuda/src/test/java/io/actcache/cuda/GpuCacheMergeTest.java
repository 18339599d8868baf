package io.actcache.cuda;

import io.actcache.KeySetMismatchException;
import io.actcache.cache.ActivationCache;
import io.actcache.cache.Aggregation;
import io.actcache.store.ActivationStore;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GpuCacheMerge} gives what {@code ActivationCache.cat} gives, bit for bit: on a GPU machine through the
 * device, elsewhere through the CPU path (and {@link GpuCacheMerge#lastPath()} says which and why).
 */
class GpuCacheMergeTest {
    private static final long BUDGET = 1L << 30;

    @Test
    void shouldMergeLikeTheCpuPathForEveryDeviceAggregationAndDtype() {
        final List<ActivationCache> batches = batches(5, new long[] {0, 1, 33, 7, 130});
        final ActivationCache expected = registered(ActivationCache.onHeap());
        batches.forEach(expected::cat);

        final ActivationCache actual = registered(ActivationCache.onHeap());
        final GpuCacheMerge merge = new GpuCacheMerge(BUDGET);
        merge.cat(actual, batches);

        assertSameContent(expected, actual);
        final GpuAvailability gpu = GpuContext.isAvailable();
        assertEquals(gpu.isAvailable() ? "gpu: " + gpu.deviceName() : "cpu: " + gpu.reason(), merge.lastPath());
    }

    @Test
    void shouldMergeIntoAStoreBackedCacheLikeTheCpuPath(@TempDir final Path dir) {
        final List<ActivationCache> batches = batches(3, new long[] {4, 64, 1});
        try (ActivationStore expectedStore = ActivationStore.create(dir.resolve("cpu"), StoreOptions.defaults());
             ActivationStore actualStore = ActivationStore.create(dir.resolve("gpu"), StoreOptions.defaults());
             ActivationCache expected = registered(ActivationCache.over(expectedStore));
             ActivationCache actual = registered(ActivationCache.over(actualStore))) {
            batches.forEach(expected::cat);
            new GpuCacheMerge(BUDGET).cat(actual, batches);
            assertSameContent(expected, actual);
        }
    }

    @Test
    void shouldUseTheCpuPathForMeansListsAndNonEmptyTargetsAndSayWhy() {
        final List<ActivationCache> batches = batches(2, new long[] {3, 5});
        final ActivationCache target = registered(ActivationCache.onHeap()).registerAggregation("blocks.0.hook_mean",
            Aggregation.mean());
        for (final ActivationCache batch : batches) {
            batch.put("blocks.0.hook_mean", GpuTestData.random(DType.F32, Shape.of(2, 3), 99));
        }
        final ActivationCache expected = registered(ActivationCache.onHeap()).registerAggregation("blocks.0.hook_mean",
            Aggregation.mean());
        batches.forEach(expected::cat);
        final GpuCacheMerge merge = new GpuCacheMerge(BUDGET);
        merge.cat(target, batches);
        assertSameContent(expected, target);
        assertTrue(merge.lastPath().startsWith("cpu: "), merge.lastPath());
        if (GpuContext.isAvailable().isAvailable()) {
            assertEquals("cpu: key 'blocks.0.hook_mean' merges by mean (prefix \"blocks.0.hook_mean\")",
                merge.lastPath());
        }

        final List<ActivationCache> more = batches(1, new long[] {2});
        more.get(0).put("blocks.0.hook_mean", GpuTestData.random(DType.F32, Shape.of(2, 3), 7));
        more.forEach(expected::cat);
        merge.cat(target, more);
        assertSameContent(expected, target);
    }

    @Test
    void shouldRefuseDifferentKeySetsAndLeaveTheTargetUnchanged() {
        final List<ActivationCache> batches = new ArrayList<>(batches(2, new long[] {3, 4}));
        batches.get(1).put("blocks.9.hook_extra", Tensor.ofFloats(Shape.of(1), 1f));
        final ActivationCache target = registered(ActivationCache.onHeap());
        final KeySetMismatchException e = assertThrows(KeySetMismatchException.class,
            () -> new GpuCacheMerge(BUDGET).cat(target, batches));
        assertTrue(e.getMessage().contains("blocks.9.hook_extra"), e.getMessage());
        assertTrue(target.isEmpty(), "the target is unchanged");
    }

    @Test
    void shouldRejectABudgetBelowOneByte() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GpuCacheMerge(0));
        assertEquals("GPU merge budget must be at least 1 byte, got 0", e.getMessage());
    }

    /** One key per device aggregation and dtype; batch b has rows[b] rows (0 and 1 included). */
    static List<ActivationCache> batches(final int count, final long[] rows) {
        final List<ActivationCache> batches = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            final ActivationCache batch = ActivationCache.onHeap();
            final long n = rows[b % rows.length];
            long seed = 1000L * b;
            for (final DType dtype : List.of(DType.F32, DType.F16, DType.BF16)) {
                final String suffix = dtype.name().toLowerCase(java.util.Locale.ROOT);
                batch.put("blocks.0.hook_concat_" + suffix, GpuTestData.random(dtype, Shape.of(n, 37), seed++));
                batch.put("blocks.0.hook_stack_" + suffix, GpuTestData.random(dtype, Shape.of(5, 3), seed++));
                batch.put("blocks.0.hook_sum_" + suffix, GpuTestData.random(dtype, Shape.of(33, 17), seed++));
                batch.put("blocks.0.hook_flat_" + suffix, GpuTestData.random(dtype, Shape.of(n, 2), seed++));
                batch.put("blocks.0.hook_first_" + suffix, GpuTestData.random(dtype, Shape.of(3), seed++));
            }
            batches.add(batch);
        }
        return batches;
    }

    static ActivationCache registered(final ActivationCache cache) {
        return cache.registerAggregation("blocks.0.hook_stack_", Aggregation.stack())
            .registerAggregation("blocks.0.hook_sum_", Aggregation.sum())
            .registerAggregation("blocks.0.hook_flat_", Aggregation.flatten())
            .registerAggregation("blocks.0.hook_first_", Aggregation.first());
    }

    static void assertSameContent(final ActivationCache expected, final ActivationCache actual) {
        assertEquals(expected.keys(), actual.keys());
        for (final String key : expected.keys()) {
            assertEquals(expected.get(key).dtype(), actual.get(key).dtype(), key);
            assertEquals(expected.get(key).shape(), actual.get(key).shape(), key);
            assertTrue(expected.get(key).contentEquals(actual.get(key)), "bit-identical " + key);
        }
    }
}
