package io.actcache.store;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A {@link DescriptorIndex} on the Java heap: what readers build from the manifest and journal, so they never
 * open the writer's Chronicle Map. Also the staging map from which the writer rebuilds its index.
 */
final class HeapIndex implements DescriptorIndex {
    private final Map<String, ColumnDescriptor> descriptors;
    private long appliedEpoch;

    HeapIndex(final Manifest manifest) {
        this.descriptors = new HashMap<>(manifest.columns());
        this.appliedEpoch = manifest.epoch();
    }

    @Override
    public ColumnDescriptor get(final String key) {
        return descriptors.get(key);
    }

    @Override
    public void put(final String key, final ColumnDescriptor descriptor) {
        descriptors.put(key, descriptor);
    }

    @Override
    public void remove(final String key) {
        descriptors.remove(key);
    }

    @Override
    public int size() {
        return descriptors.size();
    }

    @Override
    public void forEach(final BiConsumer<String, ColumnDescriptor> action) {
        descriptors.forEach(action);
    }

    @Override
    public long appliedEpoch() {
        return appliedEpoch;
    }

    @Override
    public void appliedEpoch(final long epoch) {
        this.appliedEpoch = epoch;
    }

    @Override
    public void close() {
        descriptors.clear();
    }
}
