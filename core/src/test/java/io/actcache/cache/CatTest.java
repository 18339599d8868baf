package io.actcache.cache;

import io.actcache.KeySetMismatchException;
import io.actcache.ShapeMismatchException;
import io.actcache.StrategyFailedException;
import io.actcache.store.ActivationStore;
import io.actcache.store.ColumnDescriptor;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static io.actcache.cache.CacheTestSupport.batch;
import static io.actcache.cache.CacheTestSupport.dims;
import static io.actcache.cache.CacheTestSupport.floats;
import static io.actcache.cache.CacheTestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CatTest {
    @TempDir
    Path tmp;

    @RegisterExtension
    final CacheTestSupport support = new CacheTestSupport();

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldAdoptTheOtherKeysWhenCattingIntoAnEmptyCache(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 1, 2), "input_ids", Tensor.ofLongs(Shape.of(1, 3), 7, 8, 9)));
        assertEquals(List.of("input_ids", "resid_out_0"), List.copyOf(new java.util.TreeSet<>(cache.keys())));
        assertArrayEquals(new float[] {1, 2}, values(cache.get("resid_out_0")));
        assertEquals(1, cache.getList("input_ids").size(), "keep-as-list keys adopt a list of one");
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldConcatAlongDimZeroByDefault(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.cat(batch("resid_out_0", floats(dims(2, 2), 1, 2, 3, 4)));
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 5, 6)));
        assertEquals(Shape.of(3, 2), cache.get("resid_out_0").shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, values(cache.get("resid_out_0")));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldFailOnDifferentKeySetsNamingBothDifferencesAndLeaveTheCacheUnchanged(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.cat(batch("resid_out_0", floats(dims(1), 1), "resid_out_1", floats(dims(1), 2)));
        final KeySetMismatchException e = assertThrows(KeySetMismatchException.class,
            () -> cache.cat(batch("resid_out_0", floats(dims(1), 3), "resid_out_2", floats(dims(1), 4))));
        assertTrue(e.getMessage().contains("keys only in this cache [resid_out_1]"), e.getMessage());
        assertTrue(e.getMessage().contains("keys only in the other [resid_out_2]"), e.getMessage());
        assertEquals(2, cache.size());
        assertArrayEquals(new float[] {1}, values(cache.get("resid_out_0")));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldFailOnADtypeMismatchNamingTheKeyAndLeaveTheCacheUnchanged(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 1, 2), "resid_out_1", floats(dims(1, 2), 3, 4)));
        final ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> cache.cat(batch(
            "resid_out_0", floats(dims(1, 2), 5, 6), "resid_out_1", Tensor.ofLongs(Shape.of(1, 2), 7, 8))));
        assertTrue(e.getMessage().contains("'resid_out_1'") && e.getMessage().contains("F32")
            && e.getMessage().contains("I64"), e.getMessage());
        assertEquals(Shape.of(1, 2), cache.get("resid_out_0").shape(), "the key merged before the failure is back");
        assertArrayEquals(new float[] {3, 4}, values(cache.get("resid_out_1")));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldRefuseToChangeRankWhenTrailingDimsDifferNamingKeyAndBothShapes(final boolean stored) {
        // The reference falls back from torch.cat to torch.stack here, silently adding a dim; we refuse.
        final ActivationCache cache = support.cache(stored);
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 1, 2)));
        final ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
            () -> cache.cat(batch("resid_out_0", floats(dims(1, 3), 1, 2, 3))));
        assertTrue(e.getMessage().contains("'resid_out_0'") && e.getMessage().contains("[1, 2]")
            && e.getMessage().contains("[1, 3]"), e.getMessage());
        assertEquals(Shape.of(1, 2), cache.get("resid_out_0").shape());
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldStackAlongANewLeadingDim(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.registerAggregation("values_", Aggregation.stack());
        for (int i = 0; i < 3; i++) {
            cache.cat(batch("values_0", floats(dims(2), i, 10 + i)));
        }
        assertEquals(Shape.of(3, 2), cache.get("values_0").shape());
        assertArrayEquals(new float[] {0, 10, 1, 11, 2, 12}, values(cache.get("values_0")));
        assertThrows(ShapeMismatchException.class, () -> cache.cat(batch("values_0", floats(dims(3), 1, 2, 3))));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldKeepRaggedPatternsAsAList(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.cat(batch("pattern_L0H0", floats(dims(1, 2, 2), 1, 0, 0.5f, 0.5f)));
        cache.cat(batch("pattern_L0H0", floats(dims(1, 1, 1), 1)));
        final List<TensorView> items = cache.getList("pattern_L0H0");
        assertEquals(List.of(Shape.of(1, 2, 2), Shape.of(1, 1, 1)),
            List.of(items.get(0).shape(), items.get(1).shape()));
        assertArrayEquals(new float[] {1, 0, 0.5f, 0.5f}, values(items.get(0)));
        assertThrows(ShapeMismatchException.class, () -> cache.get("pattern_L0H0"), "a list is not one tensor");
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldTurnAPutTensorIntoTheFirstItemOfAList(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.put("input_ids", Tensor.ofLongs(Shape.of(1, 2), 1, 2));
        cache.cat(batch("input_ids", Tensor.ofLongs(Shape.of(1, 3), 3, 4, 5)));
        final List<TensorView> items = cache.getList("input_ids");
        assertEquals(List.of(Shape.of(1, 2), Shape.of(1, 3)), List.of(items.get(0).shape(), items.get(1).shape()));
        assertEquals(5, items.get(1).getLong(2));
        assertThrows(ShapeMismatchException.class, () -> cache.cat(batch("input_ids", floats(dims(1), 1))),
            "list items share one dtype");
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldKeepTheFirstMappingIndexAndFlattenOffsets(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.cat(batch("mapping_index", Tensor.ofLongs(Shape.of(2), 4, 5),
            "offset", Tensor.ofLongs(Shape.of(2), 0, 3)));
        cache.cat(batch("mapping_index", Tensor.ofLongs(Shape.of(2), 9, 9), "offset",
            Tensor.ofLongs(Shape.of(2, 2), 3, 6, 6, 8)));
        final TensorView first = cache.get("mapping_index");
        assertEquals(4, first.getLong(0));
        assertEquals(5, first.getLong(1));
        final TensorView offsets = cache.get("offset");
        assertEquals(Shape.of(6), offsets.shape());
        assertArrayEquals(new float[] {0, 3, 3, 6, 6, 8}, values(offsets));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldSumAndAverageInF32InMergeOrderBitForBit(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.registerAggregation("avg_attn_pattern_", Aggregation.mean());
        cache.registerAggregation("sum_", Aggregation.sum());
        final float[][] batches = {{1e8f, 0.1f}, {1f, 0.2f}, {-1e8f, 0.3f}};
        for (final float[] b : batches) {
            cache.cat(batch("avg_attn_pattern_L0H0", floats(dims(2), b), "sum_x", floats(dims(2), b)));
        }
        // In merge order: (1e8 + 1) rounds back to 1e8 in binary32, so element 0 sums to exactly 0 (the other
        // order, 1e8 - 1e8 + 1, would give 1). Element 1 is ((0.1f + 0.2f) + 0.3f), one rounding per addition.
        final float sum1 = (0.1f + 0.2f) + 0.3f;
        assertArrayEquals(new float[] {0f, sum1}, values(cache.get("sum_x")));
        final float[] mean = values(cache.get("avg_attn_pattern_L0H0"));
        assertEquals(Float.floatToIntBits(0f / 3f), Float.floatToIntBits(mean[0]));
        assertEquals(Float.floatToIntBits(sum1 / 3f), Float.floatToIntBits(mean[1]));
        assertEquals(DType.F32, cache.get("avg_attn_pattern_L0H0").dtype());
        assertEquals(List.of("avg_attn_pattern_L0H0", "sum_x"), List.copyOf(new java.util.TreeSet<>(cache.keys())),
            "the running sum of the mean stays hidden");
    }

    @Test
    void shouldDropARunningMeanInPlusWhenTheRightSideReplacesTheKey() {
        final ActivationCache averaged = ActivationCache.onHeap().registerAggregation("avg_", Aggregation.mean());
        averaged.cat(batch("avg_x", floats(dims(1), 10), "avg_y", floats(dims(1), 1)));
        averaged.cat(batch("avg_x", floats(dims(1), 20), "avg_y", floats(dims(1), 3)));
        final ActivationCache plain = batch("avg_x", floats(dims(1), 100));
        final ActivationCache sum = averaged.plus(plain);
        assertArrayEquals(new float[] {100}, values(sum.get("avg_x")));
        assertEquals(4, sum.memorySize("avg_x"), "no hidden running sum left behind for the replaced key");
        // The replaced key starts a new mean; the kept one continues its own: (1 + 3 + 5) / 3.
        sum.cat(batch("avg_x", floats(dims(1), 100), "avg_y", floats(dims(1), 5)));
        assertArrayEquals(new float[] {100}, values(sum.get("avg_x")));
        assertArrayEquals(new float[] {3}, values(sum.get("avg_y")));
        final ActivationCache updated = ActivationCache.onHeap().registerAggregation("avg_", Aggregation.mean());
        updated.update(averaged);
        updated.update(plain);
        updated.cat(batch("avg_x", floats(dims(1), 100), "avg_y", floats(dims(1), 5)));
        assertArrayEquals(values(updated.get("avg_x")), values(sum.get("avg_x")), "plus agrees with update");
    }

    @Test
    void shouldContinueARunningMeanAfterReopeningTheStoreWithTheSameBits() {
        final Path dir = tmp.resolve("mean");
        final float[][] batches = {{0.1f, 3}, {0.2f, 5}, {0.7f, 11}, {0.3f, 13}};
        try (ActivationStore store = ActivationStore.create(dir, io.actcache.store.StoreOptions.defaults());
             ActivationCache cache = ActivationCache.over(store)) {
            cache.registerAggregation("avg_", Aggregation.mean());
            cache.cat(batch("avg_x", floats(dims(2), batches[0])));
            cache.cat(batch("avg_x", floats(dims(2), batches[1])));
        }
        final float[] reopened;
        try (ActivationStore store = ActivationStore.open(dir); ActivationCache cache = ActivationCache.over(store)) {
            cache.registerAggregation("avg_", Aggregation.mean());
            cache.cat(batch("avg_x", floats(dims(2), batches[2])));
            cache.cat(batch("avg_x", floats(dims(2), batches[3])));
            reopened = values(cache.get("avg_x"));
        }
        final ActivationCache once = ActivationCache.onHeap().registerAggregation("avg_", Aggregation.mean());
        try (DeferredMerge deferred = once.deferred()) {
            for (final float[] b : batches) {
                deferred.cat(batch("avg_x", floats(dims(2), b)));
            }
        }
        final float expected0 = (((0.1f + 0.2f) + 0.7f) + 0.3f) / 4f;
        assertEquals(Float.floatToIntBits(expected0), Float.floatToIntBits(reopened[0]));
        assertEquals(8f, reopened[1]);
        assertArrayEquals(values(once.get("avg_x")), reopened);
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldMergeWithAUserStrategy(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.registerAggregation(Pattern.compile("values_\\d+"), (key, accumulated, batch) -> {
            final Tensor max = Tensor.allocate(DType.F32, accumulated.shape());
            for (int i = 0; i < accumulated.elementCount(); i++) {
                max.setFloat(i, Math.max(accumulated.getFloat(i), batch.getFloat(i)));
            }
            return max.view();
        });
        cache.cat(batch("values_0", floats(dims(3), 1, 5, 2)));
        cache.cat(batch("values_0", floats(dims(3), 4, 0, 3)));
        assertArrayEquals(new float[] {4, 5, 3}, values(cache.get("values_0")));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldLeaveTheCacheExactlyAsBeforeWhenAStrategyThrows(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.registerAggregation("values_", (key, accumulated, batch) -> {
            throw new IllegalStateException("boom");
        });
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 1, 2), "values_0", floats(dims(1), 1)));
        final Map<String, String> before = describe(cache);
        final StrategyFailedException e = assertThrows(StrategyFailedException.class,
            () -> cache.cat(batch("resid_out_0", floats(dims(1, 2), 3, 4), "values_0", floats(dims(1), 2))));
        assertTrue(e.getMessage().contains("'values_0'") && e.getMessage().contains("prefix \"values_\""),
            e.getMessage());
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertEquals(before, describe(cache));
        assertArrayEquals(new float[] {1, 2}, values(cache.get("resid_out_0")));
    }

    @Test
    void shouldCommitAWholeBatchInOneStoreCommitAndDiscardItOnFailure() {
        final ActivationStore store = support.store();
        final ActivationCache cache = ActivationCache.over(store);
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 1, 2), "resid_out_1", floats(dims(1, 2), 3, 4)));
        final long epoch = store.epoch();
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 5, 6), "resid_out_1", floats(dims(1, 2), 7, 8)));
        assertEquals(epoch + 1, store.epoch(), "one commit for both keys");
        final Map<String, ColumnDescriptor> committed = store.descriptors();
        assertThrows(ShapeMismatchException.class, () -> cache.cat(
            batch("resid_out_0", floats(dims(1, 2), 9, 9), "resid_out_1", floats(dims(1, 3), 9, 9, 9))));
        assertEquals(epoch + 1, store.epoch());
        assertEquals(committed, store.descriptors(), "resid_out_0's staged append was discarded with the batch");
    }

    @Test
    void shouldCollectInDeferredModeAndWriteEachKeyOnceAtClose() {
        // easyroutine's deferred_mode never collects: its cat merges at once inside the block (and the list it
        // sets up stays empty), so the cache changes on every cat. Ours leaves the cache untouched until close,
        // then writes every key once, in one commit.
        final ActivationStore store = support.store();
        final ActivationCache cache = ActivationCache.over(store);
        final int rows = 16;
        final int width = 1024;
        cache.cat(batch("resid_out_0", Tensor.allocate(DType.F32, Shape.of(rows, width)),
            "pattern_L0H0", Tensor.allocate(DType.F32, Shape.of(1, 8, 8))));
        final long epoch = store.epoch();
        final long written = store.bytesWritten();
        long batchBytes = 0;
        try (DeferredMerge deferred = cache.deferred()) {
            for (int i = 0; i < 4; i++) {
                final ActivationCache b = batch("resid_out_0", Tensor.allocate(DType.F32, Shape.of(rows, width)),
                    "pattern_L0H0", Tensor.allocate(DType.F32, Shape.of(1, 4 + i, 4 + i)));
                batchBytes += b.memorySize();
                deferred.cat(b);
                assertEquals(Shape.of(rows, width), cache.get("resid_out_0").shape(), "nothing merged yet");
                assertEquals(epoch, store.epoch());
            }
            assertThrows(IllegalStateException.class, () -> cache.cat(batch("resid_out_0", floats(dims(1), 1))));
        }
        assertEquals(Shape.of(5 * rows, width), cache.get("resid_out_0").shape());
        assertEquals(5, cache.getList("pattern_L0H0").size());
        assertEquals(epoch + 1, store.epoch(), "one commit for the whole deferred merge");
        final long delta = store.bytesWritten() - written;
        assertTrue(delta >= batchBytes && delta <= 1.1 * batchBytes,
            "each byte written once: wrote " + delta + " for " + batchBytes + " bytes of batches");
    }

    @Test
    void shouldFailADeferredCatWithDifferentKeysAtOnce() {
        final ActivationCache cache = support.cache(false);
        try (DeferredMerge deferred = cache.deferred()) {
            deferred.cat(batch("resid_out_0", floats(dims(1), 1)));
            assertThrows(KeySetMismatchException.class, () -> deferred.cat(batch("resid_out_1", floats(dims(1), 1))));
            assertEquals(1, deferred.pending());
        }
        assertArrayEquals(new float[] {1}, values(cache.get("resid_out_0")));
    }

    @Test
    void shouldLeaveTheCacheUnchangedWhenADeferredMergeFailsAtClose() {
        final ActivationCache cache = support.cache(true);
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 1, 2)));
        final DeferredMerge deferred = cache.deferred();
        deferred.cat(batch("resid_out_0", floats(dims(1, 2), 3, 4)));
        deferred.cat(batch("resid_out_0", floats(dims(1, 3), 5, 6, 7)));
        assertThrows(ShapeMismatchException.class, deferred::close);
        assertArrayEquals(new float[] {1, 2}, values(cache.get("resid_out_0")));
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 8, 9)));
        assertArrayEquals(new float[] {1, 2, 8, 9}, values(cache.get("resid_out_0")));
    }

    @Test
    void shouldNameTheLabelledBatchAtFaultInADeferredMerge() {
        final ActivationCache cache = support.cache(true);
        cache.registerAggregation("values_", (key, accumulated, batch) -> {
            if (batch.getFloat(0) < 0) {
                throw new IllegalArgumentException("negative");
            }
            return batch;
        });
        cache.cat(batch("resid_out_0", floats(dims(1, 2), 1, 2), "values_0", floats(dims(1), 1)));
        final DeferredMerge keys = cache.deferred();
        keys.cat(batch("resid_out_0", floats(dims(1, 2), 3, 4), "values_0", floats(dims(1), 1)), "a.safetensors");
        final KeySetMismatchException different = assertThrows(KeySetMismatchException.class,
            () -> keys.cat(batch("resid_out_1", floats(dims(1, 2), 3, 4), "values_0", floats(dims(1), 1)),
                "b.safetensors"));
        assertTrue(different.getMessage().startsWith("b.safetensors: cannot cat"), different.getMessage());
        keys.discard();
        for (final int bad : new int[] {0, 1, 2}) {
            final DeferredMerge shapes = cache.deferred();
            for (int b = 0; b < 3; b++) {
                final Tensor resid = b == bad ? floats(dims(1, 3), 5, 6, 7) : floats(dims(1, 2), 5, 6);
                shapes.cat(batch("resid_out_0", resid, "values_0", floats(dims(1), 1)), "batch_" + b + ".safetensors");
            }
            final ShapeMismatchException e = assertThrows(ShapeMismatchException.class, shapes::close);
            assertTrue(e.getMessage().startsWith("batch_" + bad + ".safetensors: cannot concat key 'resid_out_0'"),
                e.getMessage());
        }
        final DeferredMerge strategy = cache.deferred();
        for (int b = 0; b < 3; b++) {
            strategy.cat(batch("resid_out_0", floats(dims(1, 2), 5, 6), "values_0", floats(dims(1), b == 1 ? -1 : 1)),
                "batch_" + b + ".safetensors");
        }
        final StrategyFailedException failed = assertThrows(StrategyFailedException.class, strategy::close);
        assertTrue(failed.getMessage().startsWith("batch_1.safetensors: strategy"), failed.getMessage());
        assertArrayEquals(new float[] {1, 2}, values(cache.get("resid_out_0")));
        assertArrayEquals(new float[] {1}, values(cache.get("values_0")));
    }

    @Test
    void shouldCopyBatchesIntoAHeapCacheSoReusingABatchTensorIsSafe() {
        final ActivationCache cache = support.cache(false);
        final Tensor reused = floats(dims(1, 2), 1, 2);
        cache.cat(batch("resid_out_0", reused));
        reused.setFloat(0, 3);
        reused.setFloat(1, 4);
        cache.cat(batch("resid_out_0", reused));
        assertArrayEquals(new float[] {1, 2, 3, 4}, values(cache.get("resid_out_0")));
    }

    @Test
    void shouldAppendEachMergeWithinTenPercentOfTheBatchBytes() {
        // 1,000 merges of a batch of three appending keys (concat, stack, keepList), 64 KiB each, into a store:
        // the journal record (~150 B) and NPY header update (~80 B) are small beside 64 KiB, so a merge that
        // never rewrites earlier bytes writes at most 1.1x the batch. A rewriting merge would write O(N) x.
        final ActivationStore store = support.store();
        final ActivationCache cache = ActivationCache.over(store);
        cache.registerAggregation("values_", Aggregation.stack());
        final Tensor resid = Tensor.allocate(DType.F32, Shape.of(16, 1024));
        final Tensor values = Tensor.allocate(DType.F32, Shape.of(16, 1024));
        final Tensor pattern = Tensor.allocate(DType.F32, Shape.of(1, 128, 128));
        final long batchBytes = resid.byteSize() + values.byteSize() + pattern.byteSize();
        final ActivationCache b = batch("resid_out_0", resid, "values_0", values, "pattern_L0H0", pattern);
        long worst = 0;
        for (int i = 0; i < 1000; i++) {
            final long before = store.bytesWritten();
            cache.cat(b);
            worst = Math.max(worst, store.bytesWritten() - before);
        }
        assertTrue(worst <= 1.1 * batchBytes, "worst merge wrote " + worst + " bytes for a " + batchBytes
            + "-byte batch");
        assertEquals(Shape.of(16_000, 1024), cache.get("resid_out_0").shape());
        assertEquals(Shape.of(1000, 16, 1024), cache.get("values_0").shape());
        assertEquals(1000, cache.getList("pattern_L0H0").size());
    }

    @Test
    void shouldMatchDeferredAndSequentialMergesExactly() {
        final ActivationCache sequential = support.cache(true);
        final ActivationCache deferredCache = support.cache(false);
        for (final ActivationCache cache : List.of(sequential, deferredCache)) {
            cache.registerAggregation("values_", Aggregation.stack()).registerAggregation("avg_", Aggregation.mean());
        }
        final List<ActivationCache> batches = List.of(
            batch("resid_out_0", floats(dims(1, 2), 1, 2), "values_0", floats(dims(2), 1, 2),
                "avg_x", floats(dims(1), 0.1f), "offset", Tensor.ofLongs(Shape.of(1), 1)),
            batch("resid_out_0", floats(dims(2, 2), 3, 4, 5, 6), "values_0", floats(dims(2), 3, 4),
                "avg_x", floats(dims(1), 0.7f), "offset", Tensor.ofLongs(Shape.of(2), 2, 3)));
        batches.forEach(sequential::cat);
        try (DeferredMerge deferred = deferredCache.deferred()) {
            batches.forEach(deferred::cat);
        }
        for (final String key : List.of("resid_out_0", "values_0", "avg_x", "offset")) {
            assertTrue(sequential.get(key).contentEquals(deferredCache.get(key)), key);
        }
    }

    @Test
    void shouldNotTouchTheOtherCacheWhenMerging() {
        final ActivationCache cache = support.cache(false);
        final ActivationCache other = batch("resid_out_0", floats(dims(1), 1));
        cache.cat(other);
        cache.cat(other);
        assertEquals(Shape.of(1), other.get("resid_out_0").shape());
        assertFalse(other.isEmpty());
    }

    private static Map<String, String> describe(final ActivationCache cache) {
        final Map<String, String> out = new java.util.TreeMap<>();
        cache.items().forEach((key, value) -> out.put(key, value + " crc " + value.items().stream()
            .mapToLong(TensorView::crc32c).sum()));
        return out;
    }
}
