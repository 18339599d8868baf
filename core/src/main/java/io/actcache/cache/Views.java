package io.actcache.cache;

import io.actcache.CapacityExceededException;
import io.actcache.ShapeMismatchException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Views that are made, not mapped: reshapes, stacks of several views and row-wise computed results. Each is a
 * {@link TensorView} over {@link StreamedMemory}, so a result of any size is produced one window at a time and
 * never lands on the heap whole; {@link io.actcache.store.ActivationStore#put} streams one into a column.
 */
final class Views {
    private Views() {
    }

    /** Computes one output row of F32 values. */
    @FunctionalInterface
    interface RowFunction {
        /**
         * @param row index of the row in the result, in row-major order.
         * @param out the row's values, to fill.
         */
        void compute(long row, float[] out);
    }

    /**
     * @param view  a view.
     * @param shape a shape with the same element count.
     * @return the same elements under another shape.
     */
    static TensorView reshape(final TensorView view, final Shape shape) {
        if (shape.elementCount() != view.elementCount()) {
            throw new ShapeMismatchException("cannot reshape " + view.shape() + " (" + view.elementCount()
                + " elements) to " + shape + " (" + shape.elementCount() + " elements)");
        }
        if (shape.equals(view.shape())) {
            return view;
        }
        final TensorView source = view.duplicate();
        return new TensorView(view.dtype(), shape, new StreamedMemory(view.byteSize(), 8,
            (from, dst) -> source.copyBytesTo(from, dst, dst.remaining()),
            "reshape to " + shape + " of " + view.description()), 0);
    }

    /**
     * @param parts views of one dtype whose bytes, in order, are the result's.
     * @param shape the result's shape; its byte size is the sum of the parts'.
     * @param what  what the result is, for messages.
     * @return the concatenation of the parts' bytes under {@code shape}.
     */
    static TensorView concat(final List<TensorView> parts, final Shape shape, final String what) {
        final DType dtype = parts.get(0).dtype();
        final long[] starts = new long[parts.size() + 1];
        final TensorView[] sources = new TensorView[parts.size()];
        for (int i = 0; i < sources.length; i++) {
            sources[i] = parts.get(i).duplicate();
            starts[i + 1] = starts[i] + sources[i].byteSize();
        }
        if (starts[sources.length] != shape.byteSize(dtype)) {
            throw new ShapeMismatchException(what + ": parts hold " + starts[sources.length] + " bytes, " + dtype
                + " " + shape + " needs " + shape.byteSize(dtype));
        }
        return new TensorView(dtype, shape, new StreamedMemory(starts[sources.length], 8, (from, dst) -> {
            long position = from;
            int part = partOf(starts, position);
            while (dst.hasRemaining()) {
                while (position >= starts[part + 1]) {
                    part++;
                }
                final long offset = position - starts[part];
                final long n = Math.min(dst.remaining(), sources[part].byteSize() - offset);
                sources[part].copyBytesTo(offset, dst, n);
                position += n;
            }
        }, what), 0);
    }

    /**
     * @param shape       the result's shape; its last dim is the row length.
     * @param rowFunction computes each row.
     * @param what        what the result is, for messages.
     * @return an F32 view whose rows are computed when read.
     */
    static TensorView computeRows(final Shape shape, final RowFunction rowFunction, final String what) {
        final int rowElements = (int) (shape.rank() == 0 ? 1 : shape.dim(shape.rank() - 1));
        final long rowBytes = (long) rowElements * Float.BYTES;
        final float[] row = new float[rowElements];
        return new TensorView(DType.F32, shape, new StreamedMemory(shape.byteSize(DType.F32), Math.max(rowBytes, 4),
            (from, dst) -> {
                long index = from / rowBytes;
                while (dst.hasRemaining()) {
                    rowFunction.compute(index++, row);
                    dst.asFloatBuffer().put(row);
                    dst.position(dst.position() + row.length * Float.BYTES);
                }
            }, what), 0);
    }

    /**
     * @param view a view (any memory).
     * @return a direct tensor holding a copy of its bytes.
     * @throws CapacityExceededException when the view is larger than an in-memory tensor may be.
     */
    static Tensor copy(final TensorView view) {
        if (view.byteSize() > Tensor.MAX_BYTES) {
            throw new CapacityExceededException("a heap cache holds tensors of at most " + Tensor.MAX_BYTES
                + " bytes; " + view.dtype() + " " + view.shape() + " has " + view.byteSize()
                + " (merge into a store-backed cache instead)");
        }
        final Tensor tensor = Tensor.allocate(view.dtype(), view.shape());
        final ByteBuffer target = tensor.buffer();
        view.copyTo(target);
        return tensor;
    }

    private static int partOf(final long[] starts, final long position) {
        int low = 0;
        int high = starts.length - 2;
        while (low < high) {
            final int mid = (low + high + 1) >>> 1;
            if (starts[mid] <= position) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        return low;
    }
}
