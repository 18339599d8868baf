package io.actcache.store;

import io.actcache.StaleColumnException;
import io.actcache.cache.ActivationCache;
import io.actcache.cache.CacheValue;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Merging into a keep-as-list key of a store-backed cache costs O(batch): the merge needs the list's dtype, not its
 * items, so the item table (one record per item so far) is not read; reading the list reads it once, and a value
 * read before its key was replaced refuses to serve the new column's items.
 */
class ListMergeCostTest {
    @TempDir
    Path tmp;

    private static ActivationCache batch(final long first, final int tokens) {
        final ActivationCache batch = ActivationCache.onHeap();
        final Tensor ids = Tensor.allocate(DType.I64, Shape.of(1, tokens));
        for (int i = 0; i < tokens; i++) {
            ids.setLong(i, first + i);
        }
        batch.put("input_ids", ids);
        batch.put("resid_out_0", Tensor.ofFloats(Shape.of(1, 2), first, -first));
        return batch;
    }

    @Test
    void shouldMergeIntoAListWithoutReadingItsItems() {
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), StoreOptions.defaults());
             ActivationCache cache = ActivationCache.over(store)) {
            final ColumnFiles files = store.columnFilesForTest();
            for (int b = 0; b < 300; b++) {
                cache.cat(batch(b * 100L, 3 + b % 5)); // ragged: input_ids stay a list
            }
            assertEquals(0, files.itemRecordsRead(), "a merge read the item table of the list key");
            final List<TensorView> items = cache.getList("input_ids");
            assertEquals(300, files.itemRecordsRead());
            assertEquals(300, items.size());
            for (int b = 0; b < 300; b++) {
                assertEquals(Shape.of(1, 3 + b % 5), items.get(b).shape());
                assertEquals(b * 100L, items.get(b).getLong(0));
            }
            assertEquals(Shape.of(300, 2), cache.get("resid_out_0").shape());
        }
    }

    @Test
    void shouldKeepAListValueToTheItemsItWasReadWithAndRefuseAReplacedKey() {
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), StoreOptions.defaults());
             ActivationCache cache = ActivationCache.over(store)) {
            cache.cat(batch(0, 3));
            cache.cat(batch(100, 4));
            final CacheValue before = cache.value("input_ids");
            assertTrue(before.isList());
            assertEquals(DType.I64, before.dtype());
            assertEquals("list of 2 x I64", before.toString());
            cache.cat(batch(200, 5));
            assertEquals(2, before.items().size(), "a value holds the items of when it was read");
            assertEquals(100L, before.items().get(1).getLong(0));

            final CacheValue stale = cache.value("input_ids");
            cache.put("input_ids", Tensor.ofLongs(Shape.of(1, 1), 9));
            final StaleColumnException e = assertThrows(StaleColumnException.class, stale::items);
            assertTrue(e.getMessage().contains("'input_ids'"), e.getMessage());
        }
    }
}
