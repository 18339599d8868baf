package io.actcache.store;

import java.util.List;

/**
 * One commit as the journal holds it: its epoch, the next unused column id after it, and the key changes.
 *
 * @param epoch        the commit's epoch.
 * @param nextColumnId next unused column id once this commit applies.
 * @param entries      key changes, in order.
 * @param metadata     store metadata changes, in order.
 */
public record JournalRecord(long epoch, long nextColumnId, List<Entry> entries, List<MetadataEntry> metadata) {
    /**
     * One metadata change.
     *
     * @param name  metadata name.
     * @param value its new value, or null when removed.
     */
    public record MetadataEntry(String name, String value) {
    }

    /**
     * One key change.
     *
     * @param key        the key.
     * @param descriptor its new descriptor, or null when the key is removed.
     */
    public record Entry(String key, ColumnDescriptor descriptor) {
        /** @return true when this entry removes its key. */
        public boolean isRemoval() {
            return descriptor == null;
        }
    }
}
