package io.actcache.store;

import java.util.function.BiConsumer;

/**
 * Key to {@link ColumnDescriptor}, plus the epoch of the last commit applied. The writer's is a persistent
 * Chronicle Map ({@link ChronicleIndex}); readers build theirs on the heap from the manifest and journal
 * ({@link HeapIndex}). Both are derived from the manifest and journal, never the truth. One thread only.
 */
interface DescriptorIndex extends AutoCloseable {
    /**
     * @param key a valid key.
     * @return its descriptor, or null when absent.
     */
    ColumnDescriptor get(String key);

    /**
     * @param key        a valid key.
     * @param descriptor its new descriptor.
     */
    void put(String key, ColumnDescriptor descriptor);

    /** @param key a key to drop; absent is fine. */
    void remove(String key);

    /** @return keys held. */
    int size();

    /** @param action called for every entry, in no particular order. */
    void forEach(BiConsumer<String, ColumnDescriptor> action);

    /** @return epoch of the last commit applied. */
    long appliedEpoch();

    /** @param epoch epoch of the commit just applied; set after its entries. */
    void appliedEpoch(long epoch);

    /**
     * Applies one journal record: its entries, then its epoch.
     *
     * @param record a commit.
     */
    default void apply(final JournalRecord record) {
        for (final JournalRecord.Entry entry : record.entries()) {
            if (entry.isRemoval()) {
                remove(entry.key());
            } else {
                put(entry.key(), entry.descriptor());
            }
        }
        appliedEpoch(record.epoch());
    }

    @Override
    void close();
}
