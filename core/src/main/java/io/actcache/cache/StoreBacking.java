package io.actcache.cache;

import io.actcache.StaleColumnException;
import io.actcache.store.ActivationStore;
import io.actcache.store.ColumnDescriptor;
import io.actcache.store.ColumnKind;
import io.actcache.tensor.TensorView;

import java.util.List;
import java.util.Map;

/**
 * Values in an {@link ActivationStore}: DENSE columns for tensors, LIST columns for lists. A {@link Txn} is one
 * store {@link ActivationStore.Batch}: data is written as it is staged, and one journal record commits every
 * key at once; closing it uncommitted discards everything.
 */
final class StoreBacking implements Backing {
    private final ActivationStore store;

    /**
     * @param store an open, writable store; the cache does not close it.
     */
    StoreBacking(final ActivationStore store) {
        this.store = store;
    }

    /** @return the store. */
    ActivationStore store() {
        return store;
    }

    @Override
    public List<String> keys() {
        return store.keys();
    }

    @Override
    public CacheValue value(final String key) {
        if (!store.contains(key)) {
            return null;
        }
        final ColumnDescriptor column = store.describe(key);
        if (column.kind() != ColumnKind.LIST) {
            return CacheValue.of(store.get(key));
        }
        final int size = Math.toIntExact(column.shape().dim(0));
        return CacheValue.ofList(column.dtype(), size, () -> {
            // Read on first use: the key must still be the column described (appends after it add items past
            // size, which this value does not hold).
            if (!store.contains(key) || store.describe(key).columnId() != column.columnId()) {
                throw new StaleColumnException("list key '" + key + "' was replaced or removed after this value "
                    + "was read; get it again", null);
            }
            return store.getList(key).subList(0, size);
        });
    }

    @Override
    public Map<String, String> metadata() {
        return store.metadata();
    }

    @Override
    public Txn begin() {
        final ActivationStore.Batch batch = store.batch();
        return new Txn() {
            @Override
            public void put(final String key, final TensorView value, final boolean copy) {
                batch.put(key, value);
            }

            @Override
            public void putList(final String key, final List<TensorView> items, final boolean copy) {
                if (store.contains(key) && !batch.stagedKeys().contains(key)) {
                    batch.remove(key);
                }
                items.forEach(item -> batch.appendToList(key, item));
            }

            @Override
            public void append(final String key, final TensorView rows) {
                batch.append(key, rows);
            }

            @Override
            public void appendToList(final String key, final TensorView item) {
                batch.appendToList(key, item);
            }

            @Override
            public void remove(final String key) {
                batch.remove(key);
            }

            @Override
            public void putMetadata(final String name, final String value) {
                if (value == null) {
                    batch.removeMetadata(name);
                } else {
                    batch.putMetadata(name, value);
                }
            }

            @Override
            public void commit() {
                batch.commit();
            }

            @Override
            public void close() {
                batch.close();
            }
        };
    }

    @Override
    public String describe() {
        return "store " + store.directory();
    }
}
