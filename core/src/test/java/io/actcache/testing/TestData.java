package io.actcache.testing;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Deterministic tensor contents from a seed, so a separate process can regenerate what another wrote.
 */
public final class TestData {
    private TestData() {
    }

    /**
     * @param dtype element type.
     * @param shape shape.
     * @param seed  seed.
     * @return a direct tensor of pseudo-random bytes (any bit pattern, valid for every dtype but BOOL).
     */
    public static Tensor random(final DType dtype, final Shape shape, final long seed) {
        final Tensor tensor = Tensor.allocate(dtype, shape);
        fill(tensor, seed);
        return tensor;
    }

    /**
     * Refills a tensor in place.
     *
     * @param tensor the tensor.
     * @param seed   seed.
     */
    public static void fill(final Tensor tensor, final long seed) {
        final SplittableRandom random = new SplittableRandom(seed);
        final ByteBuffer bytes = tensor.buffer();
        while (bytes.remaining() >= Long.BYTES) {
            bytes.putLong(random.nextLong());
        }
        while (bytes.hasRemaining()) {
            bytes.put((byte) random.nextInt());
        }
        if (tensor.dtype() == DType.BOOL) {
            final ByteBuffer all = tensor.buffer();
            for (int i = 0; i < all.capacity(); i++) {
                all.put(i, (byte) (all.get(i) & 1));
            }
        }
    }
}
