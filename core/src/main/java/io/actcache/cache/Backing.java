package io.actcache.cache;

import io.actcache.tensor.TensorView;

import java.util.List;
import java.util.Map;

/**
 * Where a cache's values live: the heap ({@link HeapBacking}) or an {@link io.actcache.store.ActivationStore}
 * ({@link StoreBacking}). Holds every key, hidden ones included; the cache filters. Changes go through a
 * {@link Txn}, which applies all of its changes or none.
 */
interface Backing {
    /** @return every key, in the backing's order (insertion for the heap, sorted for a store). */
    List<String> keys();

    /**
     * @param key a key.
     * @return its value, or null when absent.
     */
    CacheValue value(String key);

    /** @return all metadata, hidden names included. */
    Map<String, String> metadata();

    /** @return a new transaction; one at a time. */
    Txn begin();

    /** @return {@code heap} or the store's description. */
    String describe();

    /** Changes that become visible together at {@link #commit()}, or never if closed first. */
    interface Txn extends AutoCloseable {
        /**
         * @param key   a key.
         * @param value its new dense value; a heap backing copies it when {@code copy} is set.
         * @param copy  whether a heap backing must copy rather than keep the view.
         */
        void put(String key, TensorView value, boolean copy);

        /**
         * @param key   a key.
         * @param items its new list value; a heap backing copies them when {@code copy} is set.
         * @param copy  whether a heap backing must copy.
         */
        void putList(String key, List<TensorView> items, boolean copy);

        /**
         * @param key  a key (dense or absent).
         * @param rows rows to append along dim 0; always copied or written.
         */
        void append(String key, TensorView rows);

        /**
         * @param key  a key (list or absent).
         * @param item a tensor to add to its list; always copied or written.
         */
        void appendToList(String key, TensorView item);

        /** @param key a present key to remove. */
        void remove(String key);

        /**
         * @param name  a metadata name.
         * @param value its value, or null to remove it.
         */
        void putMetadata(String name, String value);

        /** Applies every staged change at once. */
        void commit();

        /** Discards the staged changes unless committed. */
        @Override
        void close();
    }
}
