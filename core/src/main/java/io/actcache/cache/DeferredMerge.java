package io.actcache.cache;

import io.actcache.AlreadyClosedException;
import io.actcache.KeySetMismatchException;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A deferred merge, from {@link ActivationCache#deferred()}: {@link #cat} collects batches and {@link #close()}
 * merges them all at once, writing each key once (one store commit). Until then the cache is unchanged.
 *
 * <p>Unlike the reference's {@code deferred_mode}, whose {@code cat} merges at once and never fills its list,
 * this really collects. It holds the batches' values, not copies: keep the batches unchanged (and their stores
 * open) until it closes. Key sets are checked at each {@code cat}, so a mismatch fails there; a dtype or shape
 * mismatch, or a failing strategy, fails at {@code close}, leaving the cache as it was. {@link #discard()}
 * drops what was collected (for a catch block). One thread at a time.
 */
public final class DeferredMerge implements AutoCloseable {
    private final ActivationCache cache;
    private final List<Map<String, CacheValue>> batches = new ArrayList<>();
    private final List<String> labels = new ArrayList<>();
    private Set<String> expectedKeys;
    private boolean done;

    DeferredMerge(final ActivationCache cache) {
        this.cache = cache;
    }

    /**
     * Collects a batch.
     *
     * @param batch a cache with the target's keys (or, for an empty target, the first batch's keys).
     * @return this.
     * @throws io.actcache.KeySetMismatchException naming both differences; nothing is collected.
     */
    public DeferredMerge cat(final ActivationCache batch) {
        return cat(batch, null);
    }

    /**
     * Collects a batch under a label that a failure it causes names, at {@code cat} (different keys) or at
     * {@link #close()} (a dtype or shape mismatch, a failing strategy): the file a batch was read from, say.
     *
     * @param batch a cache with the target's keys (or, for an empty target, the first batch's keys).
     * @param label names the batch in messages, as their prefix {@code "<label>: "}; null for none.
     * @return this.
     * @throws io.actcache.KeySetMismatchException naming the label and both differences; nothing is collected.
     */
    public DeferredMerge cat(final ActivationCache batch, final String label) {
        checkActive();
        final Map<String, CacheValue> values = batch.snapshot();
        if (expectedKeys == null) {
            final List<String> current = cache.keys();
            expectedKeys = new LinkedHashSet<>(current.isEmpty() ? values.keySet() : current);
        }
        try {
            Merger.checkKeys(expectedKeys, values.keySet());
        } catch (final KeySetMismatchException e) {
            throw label == null ? e : new KeySetMismatchException(label + ": " + e.getMessage(), e);
        }
        batches.add(values);
        labels.add(label);
        return this;
    }

    /** @return batches collected so far. */
    public int pending() {
        return batches.size();
    }

    /** Drops the collected batches without merging; the cache stays as it was. Idempotent. */
    public void discard() {
        if (!done) {
            done = true;
            batches.clear();
            labels.clear();
            cache.deferredEnded();
        }
    }

    /**
     * Merges every collected batch, each key written once, all or nothing. Idempotent.
     *
     * @throws io.actcache.ShapeMismatchException   naming the key and shapes; the cache is unchanged.
     * @throws io.actcache.StrategyFailedException  when a user strategy throws; the cache is unchanged.
     */
    @Override
    public void close() {
        if (done) {
            return;
        }
        done = true;
        cache.deferredEnded();
        cache.mergeBatches(batches, labels);
        batches.clear();
        labels.clear();
    }

    private void checkActive() {
        if (done) {
            throw new AlreadyClosedException("deferred merge was already closed");
        }
        cache.checkOpen();
    }
}
