package io.actcache.cache;

import io.actcache.ShapeMismatchException;
import io.actcache.tensor.DType;
import io.actcache.tensor.TensorView;

import java.util.List;

/**
 * One key's value in an {@link ActivationCache}: a dense tensor, or a list of tensors of one dtype and any shapes
 * (the form the keep-as-list strategy accumulates, such as attention patterns of prompts of different lengths).
 * Immutable; the views share memory with the cache.
 */
public final class CacheValue {
    private final TensorView tensor;
    private final List<TensorView> items;

    private CacheValue(final TensorView tensor, final List<TensorView> items) {
        this.tensor = tensor;
        this.items = items;
    }

    /**
     * @param tensor a tensor.
     * @return a dense value.
     */
    public static CacheValue of(final TensorView tensor) {
        return new CacheValue(tensor, null);
    }

    /**
     * @param items tensors of one dtype, at least one.
     * @return a list value.
     * @throws ShapeMismatchException when the items' dtypes differ.
     */
    public static CacheValue ofList(final List<TensorView> items) {
        if (items.isEmpty()) {
            throw new IllegalArgumentException("a list value needs at least one tensor");
        }
        for (final TensorView item : items) {
            if (item.dtype() != items.get(0).dtype()) {
                throw new ShapeMismatchException("list items must share one dtype: " + items.get(0).dtype() + " "
                    + items.get(0).shape() + " and " + item.dtype() + " " + item.shape());
            }
        }
        return new CacheValue(null, List.copyOf(items));
    }

    /** @return true for a list of tensors, false for one dense tensor. */
    public boolean isList() {
        return items != null;
    }

    /**
     * @return the dense tensor.
     * @throws ShapeMismatchException when this is a list.
     */
    public TensorView tensor() {
        if (items != null) {
            throw new ShapeMismatchException("the value is a list of " + items.size() + " tensors, not one tensor; "
                + "read it with getList");
        }
        return tensor;
    }

    /** @return the list's tensors, or the dense tensor as a list of one. */
    public List<TensorView> items() {
        return items != null ? items : List.of(tensor);
    }

    /** @return the element type. */
    public DType dtype() {
        return items != null ? items.get(0).dtype() : tensor.dtype();
    }

    /** @return bytes held: the tensor's, or the sum of the items'. */
    public long byteSize() {
        if (items == null) {
            return tensor.byteSize();
        }
        long total = 0;
        for (final TensorView item : items) {
            total += item.byteSize();
        }
        return total;
    }

    /** @return {@code F32 [4, 8]} or {@code list of 3 x F32}. */
    @Override
    public String toString() {
        return items != null ? "list of " + items.size() + " x " + dtype() : tensor.dtype() + " " + tensor.shape();
    }
}
