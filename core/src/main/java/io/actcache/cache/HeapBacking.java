package io.actcache.cache;

import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Values on the heap, in insertion order: a view a user put (kept, not copied), a {@link HeapColumn} grown by
 * appends, or a list of copied tensors. Staged changes copy their data when staged and are linked in at commit,
 * which cannot fail half-way.
 */
final class HeapBacking implements Backing {
    private final Map<String, Object> values = new LinkedHashMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    @Override
    public List<String> keys() {
        return new ArrayList<>(values.keySet());
    }

    @Override
    @SuppressWarnings("unchecked")
    public CacheValue value(final String key) {
        final Object value = values.get(key);
        if (value == null) {
            return null;
        }
        if (value instanceof HeapColumn) {
            return CacheValue.of(((HeapColumn) value).view());
        }
        if (value instanceof List) {
            return CacheValue.ofList((List<TensorView>) value);
        }
        return CacheValue.of(((TensorView) value).duplicate());
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Txn begin() {
        return new HeapTxn();
    }

    @Override
    public String describe() {
        return "heap";
    }

    /** Staged changes, applied in order at commit. */
    private final class HeapTxn implements Txn {
        private final List<Consumer<Map<String, Object>>> staged = new ArrayList<>();
        private final Map<String, String> stagedMetadata = new LinkedHashMap<>();
        private boolean done;

        @Override
        public void put(final String key, final TensorView value, final boolean copy) {
            final TensorView kept = copy ? Views.copy(value).view() : value.duplicate();
            staged.add(map -> map.put(key, kept));
        }

        @Override
        public void putList(final String key, final List<TensorView> items, final boolean copy) {
            final List<TensorView> kept = new ArrayList<>(items.size());
            items.forEach(item -> kept.add(copy ? Views.copy(item).view() : item.duplicate()));
            staged.add(map -> map.put(key, kept));
        }

        @Override
        public void append(final String key, final TensorView rows) {
            final Tensor copy = Views.copy(rows);
            staged.add(map -> {
                final Object current = map.get(key);
                if (current instanceof HeapColumn) {
                    ((HeapColumn) current).append(copy);
                } else {
                    final HeapColumn column = current == null ? new HeapColumn(copy)
                        : new HeapColumn(Views.copy((TensorView) current));
                    if (current != null) {
                        column.append(copy);
                    }
                    map.put(key, column);
                }
            });
        }

        @Override
        @SuppressWarnings("unchecked")
        public void appendToList(final String key, final TensorView item) {
            final TensorView copy = Views.copy(item).view();
            staged.add(map -> ((List<TensorView>) map.computeIfAbsent(key, k -> new ArrayList<TensorView>()))
                .add(copy));
        }

        @Override
        public void remove(final String key) {
            staged.add(map -> map.remove(key));
        }

        @Override
        public void putMetadata(final String name, final String value) {
            stagedMetadata.put(name, value);
        }

        @Override
        public void commit() {
            done = true;
            staged.forEach(change -> change.accept(values));
            stagedMetadata.forEach((name, value) -> {
                if (value == null) {
                    metadata.remove(name);
                } else {
                    metadata.put(name, value);
                }
            });
        }

        @Override
        public void close() {
            done = true;
            staged.clear();
        }
    }
}
