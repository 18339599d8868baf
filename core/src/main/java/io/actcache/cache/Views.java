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

    /** Elements computed at a time by {@link #computeElements}: 64 KiB of F32, whatever the shape. */
    static final int TILE_ELEMENTS = 1 << 14;
    /** The longest row {@link #computeRows} computes: its bytes must fit one streamed window. */
    static final long MAX_ROW_ELEMENTS = (Integer.MAX_VALUE - 8) / Float.BYTES;

    /** Computes consecutive output elements of F32 values. */
    @FunctionalInterface
    interface TileFunction {
        /**
         * @param first index of the first element, in row-major order.
         * @param count elements to compute.
         * @param out   receives them from index 0.
         */
        void compute(long first, int count, float[] out);
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
        final int rowElements = rowLength(shape, what);
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
     * An elementwise result computed a bounded tile at a time, whatever its shape: a sum or mean of a rank-1 key of
     * billions of elements needs no row of that length on the heap.
     *
     * @param shape the result's shape.
     * @param tiles computes runs of elements.
     * @param what  what the result is, for messages.
     * @return an F32 view whose elements are computed when read.
     */
    static TensorView computeElements(final Shape shape, final TileFunction tiles, final String what) {
        final long elements = shape.elementCount();
        final int tile = tileElements(shape);
        final float[] values = new float[tile];
        return new TensorView(DType.F32, shape, new StreamedMemory(shape.byteSize(DType.F32),
            (long) tile * Float.BYTES, (from, dst) -> {
                long first = from / Float.BYTES;
                while (dst.hasRemaining()) {
                    final int count = (int) Math.min(tile, elements - first);
                    tiles.compute(first, count, values);
                    dst.asFloatBuffer().put(values, 0, count);
                    dst.position(dst.position() + count * Float.BYTES);
                    first += count;
                }
            }, what), 0);
    }

    /**
     * @param shape a result's shape.
     * @return elements {@link #computeElements} computes at a time for it: a small key needs no 64 KiB tile.
     */
    static int tileElements(final Shape shape) {
        return (int) Math.max(1, Math.min(shape.elementCount(), TILE_ELEMENTS));
    }

    /**
     * @param shape a shape.
     * @param what  what is computed over its rows, for messages.
     * @return elements in its last dim (1 for a scalar).
     * @throws CapacityExceededException when a row is longer than {@link #MAX_ROW_ELEMENTS}.
     */
    static int rowLength(final Shape shape, final String what) {
        final long length = shape.rank() == 0 ? 1 : shape.dim(shape.rank() - 1);
        if (length > MAX_ROW_ELEMENTS) {
            throw new CapacityExceededException(what + ": rows of " + shape + " hold " + length + " elements; a row "
                + "computed at once holds at most " + MAX_ROW_ELEMENTS);
        }
        return (int) length;
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
