package io.actcache.tensor;

import io.actcache.InvalidShapeException;

import java.util.Arrays;

/**
 * An immutable tensor shape: rank 0 to {@value #MAX_RANK}, non-negative {@code long} dimensions, element count
 * checked against {@code long} overflow at construction.
 */
public final class Shape {
    /** Largest supported rank. */
    public static final int MAX_RANK = 8;

    private static final Shape SCALAR = new Shape(new long[0], 1);

    private final long[] dims;
    private final long elementCount;

    private Shape(final long[] dims, final long elementCount) {
        this.dims = dims;
        this.elementCount = elementCount;
    }

    /**
     * @param dims dimensions, outermost first; none for a scalar.
     * @return the shape.
     * @throws InvalidShapeException naming the shape on a negative dimension, rank above 8 or count overflow.
     */
    public static Shape of(final long... dims) {
        if (dims.length == 0) {
            return SCALAR;
        }
        if (dims.length > MAX_RANK) {
            throw new InvalidShapeException(
                "shape " + Arrays.toString(dims) + " has rank " + dims.length + ", above the maximum " + MAX_RANK);
        }
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new InvalidShapeException(
                    "shape " + Arrays.toString(dims) + " has negative dimension " + dims[i] + " at axis " + i);
            }
        }
        boolean empty = false;
        for (final long dim : dims) {
            // Like numpy, skip zeros so an empty shape cannot hide trailing dims whose product overflows.
            if (dim == 0) {
                empty = true;
                continue;
            }
            try {
                count = Math.multiplyExact(count, dim);
            } catch (final ArithmeticException e) {
                throw new InvalidShapeException(
                    "shape " + Arrays.toString(dims) + " has an element count that overflows a long", e);
            }
        }
        return new Shape(dims.clone(), empty ? 0 : count);
    }

    /** @return the number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /**
     * @param axis 0 to rank - 1.
     * @return the size of that dimension.
     */
    public long dim(final int axis) {
        return dims[axis];
    }

    /** @return a copy of the dimensions. */
    public long[] dims() {
        return dims.clone();
    }

    /** @return the product of the dimensions (1 for a scalar). */
    public long elementCount() {
        return elementCount;
    }

    /**
     * @param dtype element type.
     * @return bytes needed for this shape.
     * @throws InvalidShapeException when the byte count overflows a long.
     */
    public long byteSize(final DType dtype) {
        if (elementCount > (Long.MAX_VALUE >> dtype.shift())) {
            throw new InvalidShapeException("shape " + this + " of " + dtype + " has a byte size that overflows a long");
        }
        return elementCount << dtype.shift();
    }

    /** @return elements in one slice along dim 0 (product of trailing dims); 1 for a scalar. */
    public long rowElements() {
        long count = 1;
        for (int i = 1; i < dims.length; i++) {
            count *= dims[i];
        }
        return count;
    }

    /** @return the shape without its first dimension; rank must be at least 1. */
    public Shape trailing() {
        requireRank("trailing");
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length), rowElements());
    }

    /**
     * @param rows new size of dim 0.
     * @return this shape with dim 0 replaced.
     * @throws InvalidShapeException when the result overflows.
     */
    public Shape withDim0(final long rows) {
        requireRank("withDim0");
        final long[] copy = dims.clone();
        copy[0] = rows;
        return of(copy);
    }

    /**
     * @param leading size of a new leading dimension.
     * @return {@code [leading, dims...]}.
     */
    public Shape prepend(final long leading) {
        final long[] copy = new long[dims.length + 1];
        copy[0] = leading;
        System.arraycopy(dims, 0, copy, 1, dims.length);
        return of(copy);
    }

    /**
     * @param other another shape.
     * @return true when both have rank at least 1 and equal dimensions after dim 0.
     */
    public boolean sameTrailingDims(final Shape other) {
        if (dims.length == 0 || dims.length != other.dims.length) {
            return false;
        }
        for (int i = 1; i < dims.length; i++) {
            if (dims[i] != other.dims[i]) {
                return false;
            }
        }
        return true;
    }

    private void requireRank(final String operation) {
        if (dims.length == 0) {
            throw new InvalidShapeException(operation + " needs rank >= 1, but the shape is a scalar []");
        }
    }

    @Override
    public boolean equals(final Object other) {
        return other instanceof Shape && Arrays.equals(dims, ((Shape) other).dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** @return the dimensions as {@code [8, 128, 768]}. */
    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
