package io.actcache.cuda;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;

import java.util.SplittableRandom;

/** Deterministic tensors for the GPU tests: values of mixed magnitude and sign, so sums round. */
final class GpuTestData {
    private GpuTestData() {
    }

    /**
     * @param dtype F32, F16 or BF16.
     * @param shape shape (at most 2 GiB of bytes).
     * @param seed  seed.
     * @return a direct tensor of random values.
     */
    static Tensor random(final DType dtype, final Shape shape, final long seed) {
        final Tensor tensor = Tensor.allocate(dtype, shape);
        final SplittableRandom random = new SplittableRandom(seed);
        for (long i = 0; i < shape.elementCount(); i++) {
            final double magnitude = Math.scalb(random.nextDouble(), random.nextInt(-12, 12));
            tensor.setAsFloat(i, (float) (random.nextBoolean() ? magnitude : -magnitude));
        }
        return tensor;
    }
}
