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
        final TensorView[] sources = terms.stream().map(TensorView::duplicate).toArray(TensorView[]::new);
        final float[] term = new float[Views.tileElements(shape)];
        return Views.computeElements(shape, (first, count, out) -> {
            sources[0].copyTo(first, out, 0, count);
            for (int t = 1; t < sources.length; t++) {
                sources[t].copyTo(first, term, 0, count);
                for (int i = 0; i < count; i++) {
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
        final TensorView source = sum.duplicate();
        final float divisor = count;
        return Views.computeElements(sum.shape(), (first, n, out) -> {
            source.copyTo(first, out, 0, n);
            for (int i = 0; i < n; i++) {
                out[i] /= divisor;
            }
        }, what);
    }
}
