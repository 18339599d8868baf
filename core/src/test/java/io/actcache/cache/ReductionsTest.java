package io.actcache.cache;

import io.actcache.tensor.ChunkedMemory;
import io.actcache.tensor.DType;
import io.actcache.tensor.MemoryChunk;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;
import io.actcache.testing.FuzzChecks;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sum and mean of {@link Reductions} on a rank-1 view of more than 2^31 elements (an 8 GiB F32 vector, made up
 * chunk by chunk, so nothing that size exists): every element is right, and the heap holds a tile, not a row.
 */
class ReductionsTest {
    /** 2^31 + 12: a row length cast to int read as 12, or as a negative array size for 2^31 + 4. */
    private static final long ELEMENTS = (1L << 31) + 12;

    @Test
    void shouldSumAndAverageAVectorLongerThanAnArrayTileByTile() {
        final TensorView a = synthetic(1);
        final TensorView b = synthetic(3);
        final long before = FuzzChecks.allocatedBytes();
        final TensorView sum = Reductions.sum(List.of(a, b), "sum(x)");
        final TensorView mean = Reductions.divide(sum, 2, "mean(x)");
        for (final long i : new long[] {0, 1, 12, 1L << 31, ELEMENTS - 1}) {
            assertEquals(value(i, 1) + value(i, 3), sum.getFloat(i), "sum element " + i);
            assertEquals((value(i, 1) + value(i, 3)) / 2f, mean.getFloat(i), "mean element " + i);
        }
        final long allocated = FuzzChecks.allocatedBytes() - before;
        assertTrue(allocated < 16 << 20, "heap allocated " + allocated + " bytes for an 8 GiB result");
        assertEquals(Shape.of(ELEMENTS), mean.shape());
    }

    private static float value(final long index, final int seed) {
        return (float) (index % 1000) * seed;
    }

    /** A rank-1 F32 view whose 1 MiB chunks are made when read: element i is {@code value(i, seed)}. */
    private static TensorView synthetic(final int seed) {
        final long chunkBytes = 1 << 20;
        return new TensorView(DType.F32, Shape.of(ELEMENTS), new ChunkedMemory() {
            @Override
            public MemoryChunk chunkFor(final long position, final long requiredEnd) {
                final long start = position / chunkBytes * chunkBytes;
                final int length = (int) Math.min(chunkBytes, ELEMENTS * Float.BYTES - start);
                final ByteBuffer bytes = ByteBuffer.allocateDirect(length).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < length / Float.BYTES; i++) {
                    bytes.putFloat(i * Float.BYTES, value(start / Float.BYTES + i, seed));
                }
                return new MemoryChunk(bytes, start);
            }

            @Override
            public String description() {
                return "synthetic vector";
            }
        }, 0);
    }
}
