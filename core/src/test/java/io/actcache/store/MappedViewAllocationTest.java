package io.actcache.store;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Element reads of a mapped column that spans many chunks, under a mapping bound that forces re-mapping,
 * allocate nothing per element: only the occasional chunk mapping allocates, per chunk.
 */
class MappedViewAllocationTest {
    @TempDir
    Path tmp;

    @Test
    void shouldReadSixteenMillionMappedElementsAllocatingOnlyPerChunk() {
        final StoreOptions options = StoreOptions.builder().durability(Durability.NONE)
            .chunkSize(1 << 20).maxMappedChunks(4).build();
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), options)) {
            final Tensor batch = Tensor.allocate(DType.F32, Shape.of(1024, 1024));
            for (int b = 0; b < 16; b++) {
                TestData.fill(batch, b);
                store.append("k", batch);
            }
            final TensorView view = store.get("k");
            final long elements = view.elementCount();
            double warm = 0;
            for (int round = 0; round < 3; round++) {
                warm += sum(view, elements);
            }
            final long before = threads.getCurrentThreadAllocatedBytes();
            final double total = sum(view, elements);
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertEquals(warm / 3, total, Math.abs(total) * 1e-9 + 1e-3);
            final long chunks = (elements * 4 + 4096) / (1 << 20) + 1;
            // Each re-mapped chunk costs a few small objects (key, chunk, buffers); elements cost nothing.
            assertTrue(allocated < chunks * 2048, allocated + " bytes allocated reading " + elements
                + " elements over " + chunks + " chunks");
            assertTrue(store.mappedChunks() <= 4);
        }
    }

    private static double sum(final TensorView view, final long elements) {
        double sum = 0;
        for (long i = 0; i < elements; i++) {
            final float value = view.getFloat(i);
            if (!Float.isNaN(value) && !Float.isInfinite(value)) {
                sum += value * 1e-30;
            }
        }
        return sum;
    }
}
