package io.actcache.cache;

import io.actcache.ShapeMismatchException;
import io.actcache.tensor.DType;
import io.actcache.tensor.TensorView;

import java.util.List;
import java.util.function.Supplier;

/**
 * One key's value in an {@link ActivationCache}: a dense tensor, or a list of tensors of one dtype and any shapes
 * (the form the keep-as-list strategy accumulates, such as attention patterns of prompts of different lengths).
 * Immutable; the views share memory with the cache. A store's list is read when its items are first asked for,
 * so merging into it (which needs only its dtype) costs O(batch), not O(items so far).
 */
public final class CacheValue {
    private final TensorView tensor;
    private final DType listDtype;
    private final int listSize;
    private final Supplier<List<TensorView>> loader;
    /** Set once; a race between two first readers only loads twice (the lists are immutable and equal). */
    private List<TensorView> items;

    private CacheValue(final TensorView tensor, final List<TensorView> items) {
        this.tensor = tensor;
        this.items = items;
        this.listDtype = items == null ? null : items.get(0).dtype();
        this.listSize = items == null ? 0 : items.size();
        this.loader = null;
    }

    private CacheValue(final DType dtype, final int size, final Supplier<List<TensorView>> loader) {
        this.tensor = null;
        this.listDtype = dtype;
        this.listSize = size;
        this.loader = loader;
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

    /**
     * A list value whose items are read on first use.
     *
     * @param dtype  the items' dtype.
     * @param size   how many items, at least one.
     * @param loader reads exactly {@code size} items of {@code dtype}, once.
     * @return a list value.
     */
    static CacheValue ofList(final DType dtype, final int size, final Supplier<List<TensorView>> loader) {
        if (size < 1) {
            throw new IllegalArgumentException("a list value needs at least one tensor");
        }
        return new CacheValue(dtype, size, loader);
    }

    /** @return true for a list of tensors, false for one dense tensor. */
    public boolean isList() {
        return tensor == null;
    }

    /**
     * @return the dense tensor.
     * @throws ShapeMismatchException when this is a list.
     */
    public TensorView tensor() {
        if (tensor == null) {
            throw new ShapeMismatchException("the value is a list of " + listSize + " tensors, not one tensor; "
                + "read it with getList");
        }
        return tensor;
    }

    /** @return the list's tensors, or the dense tensor as a list of one. */
    public List<TensorView> items() {
        if (tensor != null) {
            return List.of(tensor);
        }
        List<TensorView> loaded = items;
        if (loaded == null) {
            loaded = List.copyOf(loader.get());
            items = loaded;
        }
        return loaded;
    }

    /** @return the element type. */
    public DType dtype() {
        return tensor != null ? tensor.dtype() : listDtype;
    }

    /** @return bytes held: the tensor's, or the sum of the items'. */
    public long byteSize() {
        if (tensor != null) {
            return tensor.byteSize();
        }
        long total = 0;
        for (final TensorView item : items()) {
            total += item.byteSize();
        }
        return total;
    }

    /** @return {@code F32 [4, 8]} or {@code list of 3 x F32}. */
    @Override
    public String toString() {
        return tensor == null ? "list of " + listSize + " x " + listDtype : tensor.dtype() + " " + tensor.shape();
    }
}
