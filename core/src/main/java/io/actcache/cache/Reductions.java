package io.actcache.cache;

import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;

import java.util.List;

/**
 * The arithmetic of the sum and mean aggregations, as lazily computed F32 views (see {@link Views}), in one fixed
 * order so any implementation (the GPU path included) can match it bit for bit: for each element, start from
 * the first term converted to F32 and add the others one binary32 addition at a time, in list order; a mean
 * divides that sum by the count with one binary32 division.
 */
final class Reductions {
    private Reductions() {
    }

    /**
     * @param terms views of one shape (any numeric dtypes), at least one.
     * @param what  what the result is, for messages.
     * @return their elementwise F32 sum, computed when read.
     */
    static TensorView sum(final List<TensorView> terms, final String what) {
        final Shape shape = terms.get(0).shape();
        final int rowLength = rowLength(shape);
        final TensorView[] sources = terms.stream().map(TensorView::duplicate).toArray(TensorView[]::new);
        final float[] term = new float[rowLength];
        return Views.computeRows(shape, (row, out) -> {
            final long from = row * rowLength;
            sources[0].copyTo(from, out, 0, rowLength);
            for (int t = 1; t < sources.length; t++) {
                sources[t].copyTo(from, term, 0, rowLength);
                for (int i = 0; i < rowLength; i++) {
                    out[i] += term[i];
                }
            }
        }, what);
    }

    /**
     * @param sum   an F32 view.
     * @param count the divisor.
     * @param what  what the result is, for messages.
     * @return {@code sum / count} elementwise (one binary32 division each), computed when read.
     */
    static TensorView divide(final TensorView sum, final long count, final String what) {
        final int rowLength = rowLength(sum.shape());
        final TensorView source = sum.duplicate();
        final float divisor = count;
        return Views.computeRows(sum.shape(), (row, out) -> {
            source.copyTo(row * rowLength, out, 0, rowLength);
            for (int i = 0; i < rowLength; i++) {
                out[i] /= divisor;
            }
        }, what);
    }

    /**
     * @param shape a shape.
     * @return elements in its last dim (1 for a scalar).
     */
    static int rowLength(final Shape shape) {
        return shape.rank() == 0 ? 1 : (int) shape.dim(shape.rank() - 1);
    }
}
