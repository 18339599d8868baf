package io.actcache.cache;

import io.actcache.KeySetMismatchException;
import io.actcache.ShapeMismatchException;
import io.actcache.StrategyFailedException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Merges batches into a cache's backing: checks every key against its {@link Aggregation} and stages the changes
 * in one {@link Backing.Txn}, committed only when every key succeeded. Appending aggregations stage appends, so a
 * merge costs the bytes of the batches merged, not of the column.
 *
 * <p>A merge of several batches at once (deferred mode) writes each key once: its appends go into the same
 * transaction, and sum, mean and user strategies fold all batches before one write.
 */
final class Merger {
    /** Prefix of keys and metadata names the cache keeps for itself (a mean's running sum and count). */
    static final String HIDDEN = ".actcache/";
    private static final String SUM_PREFIX = HIDDEN + "sum/";
    private static final String COUNT_PREFIX = HIDDEN + "count/";

    private final Backing backing;
    private final AggregationRegistry registry;
    /** Index of the batch an aggregation is looking at, so a failure can name that batch. */
    private int batchIndex;

    /**
     * @param backing  the target's values.
     * @param registry its aggregations.
     */
    Merger(final Backing backing, final AggregationRegistry registry) {
        this.backing = backing;
        this.registry = registry;
    }

    /**
     * @param key a visible key.
     * @return the hidden key of its running sum.
     */
    static String sumKey(final String key) {
        return SUM_PREFIX + key;
    }

    /**
     * @param key a visible key.
     * @return the hidden metadata name of its batch count.
     */
    static String countName(final String key) {
        return COUNT_PREFIX + key;
    }

    /**
     * @param name a key or metadata name.
     * @return true for names the cache keeps for itself.
     */
    static boolean isHidden(final String name) {
        return name.startsWith(HIDDEN);
    }

    /**
     * @param expected the target's keys (or the first batch's when the target is empty).
     * @param batch    a batch's keys.
     * @throws KeySetMismatchException naming both differences.
     */
    static void checkKeys(final Set<String> expected, final Set<String> batch) {
        if (expected.equals(batch)) {
            return;
        }
        final Set<String> onlyHere = new TreeSet<>(expected);
        onlyHere.removeAll(batch);
        final Set<String> onlyThere = new TreeSet<>(batch);
        onlyThere.removeAll(expected);
        throw new KeySetMismatchException("cannot cat caches with different keys: keys only in this cache "
            + onlyHere + ", keys only in the other " + onlyThere + "; the cache is unchanged");
    }

    /**
     * Merges batches, all or nothing.
     *
     * @param current the target's visible keys now, in order; empty to adopt the first batch's keys.
     * @param batches the batches' values by key, in merge order; each with the same key set.
     */
    void merge(final List<String> current, final List<Map<String, CacheValue>> batches) {
        merge(current, batches, List.of());
    }

    /**
     * Merges batches, all or nothing; a failure caused by one batch names it by its label.
     *
     * @param current the target's visible keys now, in order; empty to adopt the first batch's keys.
     * @param batches the batches' values by key, in merge order; each with the same key set.
     * @param labels  a label per batch (such as the file it came from) that prefixes the message of a
     *                {@link ShapeMismatchException} or {@link StrategyFailedException} it causes (null for none); or an
     *                empty list for none at all.
     */
    void merge(final List<String> current, final List<Map<String, CacheValue>> batches, final List<String> labels) {
        if (batches.isEmpty()) {
            return;
        }
        final boolean adopting = current.isEmpty();
        final List<String> keys = adopting ? new ArrayList<>(batches.get(0).keySet()) : current;
        for (int i = 0; i < batches.size(); i++) {
            try {
                checkKeys(new LinkedHashSet<>(keys), batches.get(i).keySet());
            } catch (final KeySetMismatchException e) {
                throw labels.isEmpty() || labels.get(i) == null ? e
                    : new KeySetMismatchException(labels.get(i) + ": " + e.getMessage(), e);
            }
        }
        try (Backing.Txn txn = backing.begin()) {
            for (final String key : keys) {
                final List<CacheValue> incoming = new ArrayList<>(batches.size());
                batches.forEach(batch -> incoming.add(batch.get(key)));
                batchIndex = 0;
                try {
                    mergeKey(txn, key, adopting ? null : backing.value(key), incoming);
                } catch (final ShapeMismatchException e) {
                    throw label(labels).isEmpty() ? e : new ShapeMismatchException(label(labels) + e.getMessage(), e);
                } catch (final StrategyFailedException e) {
                    throw label(labels).isEmpty() ? e : new StrategyFailedException(label(labels) + e.getMessage(), e);
                }
            }
            txn.commit();
        }
    }

    private String label(final List<String> labels) {
        final String label = labels.isEmpty() ? null : labels.get(batchIndex);
        return label == null ? "" : label + ": ";
    }

    /** @return the batches in order, noting in {@link #batchIndex} the one being looked at. */
    private Iterable<CacheValue> tracked(final List<CacheValue> incoming) {
        return () -> new java.util.Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < incoming.size();
            }

            @Override
            public CacheValue next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                batchIndex = next;
                return incoming.get(next++);
            }
        };
    }

    private void mergeKey(final Backing.Txn txn, final String key, final CacheValue current,
        final List<CacheValue> incoming) {
        final AggregationRegistry.Match match = registry.resolve(key);
        switch (match.aggregation().kind()) {
            case CONCAT: concat(txn, key, current, incoming); break;
            case STACK: stack(txn, key, current, incoming); break;
            case KEEP_LIST: keepList(txn, key, current, incoming); break;
            case FIRST: first(txn, key, current, incoming); break;
            case FLATTEN: flatten(txn, key, current, incoming); break;
            case SUM:
            case MEAN: sumOrMean(txn, key, current, incoming, match.aggregation().kind() == Aggregation.Kind.MEAN);
                break;
            default: custom(txn, key, current, incoming, match);
        }
    }

    private void concat(final Backing.Txn txn, final String key, final CacheValue current,
        final List<CacheValue> incoming) {
        final TensorView existing = current == null ? null : dense(key, current, "concat");
        DType dtype = existing == null ? null : existing.dtype();
        Shape shape = existing == null ? null : existing.shape();
        for (final CacheValue value : tracked(incoming)) {
            final TensorView batch = dense(key, value, "concat");
            if (batch.shape().rank() == 0 || shape != null && (shape.rank() == 0 || dtype != batch.dtype()
                || !shape.sameTrailingDims(batch.shape()))) {
                throw concatMismatch(key, dtype, shape, batch);
            }
            txn.append(key, batch);
            dtype = batch.dtype();
            shape = shape == null ? batch.shape() : shape.withDim0(shape.dim(0) + batch.shape().dim(0));
        }
    }

    private void stack(final Backing.Txn txn, final String key, final CacheValue current,
        final List<CacheValue> incoming) {
        final TensorView existing = current == null ? null : dense(key, current, "stack");
        if (existing != null && existing.shape().rank() == 0) {
            throw new ShapeMismatchException("cannot stack onto key '" + key + "': its value is a scalar "
                + existing.dtype() + " []; a stack has a leading dim");
        }
        DType dtype = existing == null ? null : existing.dtype();
        Shape items = existing == null ? null : existing.shape().trailing();
        long count = existing == null ? 0 : existing.shape().dim(0);
        for (final CacheValue value : tracked(incoming)) {
            final TensorView batch = dense(key, value, "stack");
            if (items != null && (dtype != batch.dtype() || !items.equals(batch.shape()))) {
                throw new ShapeMismatchException("cannot stack key '" + key + "': the stack holds " + dtype + " "
                    + items.prepend(count) + " (items " + items + "), the batch is " + batch.dtype() + " "
                    + batch.shape() + "; stacked items need one shape (use keepList for ragged ones)");
            }
            txn.append(key, Views.reshape(batch, batch.shape().prepend(1)));
            dtype = batch.dtype();
            items = batch.shape();
            count++;
        }
    }

    private void keepList(final Backing.Txn txn, final String key, final CacheValue current,
        final List<CacheValue> incoming) {
        DType dtype = current == null ? null : current.dtype();
        if (current != null && !current.isList()) {
            txn.putList(key, current.items(), true); // a value a user put becomes the list's first item
        }
        for (final CacheValue value : tracked(incoming)) {
            for (final TensorView item : value.items()) {
                if (dtype != null && item.dtype() != dtype) {
                    throw new ShapeMismatchException("cannot add to list key '" + key + "': its items are " + dtype
                        + ", the batch's is " + item.dtype() + " " + item.shape());
                }
                dtype = item.dtype();
                txn.appendToList(key, item);
            }
        }
    }

    private void first(final Backing.Txn txn, final String key, final CacheValue current,
        final List<CacheValue> incoming) {
        if (current != null) {
            return;
        }
        final CacheValue value = incoming.get(0);
        if (value.isList()) {
            txn.putList(key, value.items(), true);
        } else {
            txn.put(key, value.tensor(), true);
        }
    }

    private void flatten(final Backing.Txn txn, final String key, final CacheValue current,
        final List<CacheValue> incoming) {
        final TensorView existing = current == null ? null : dense(key, current, "flatten");
        if (existing != null && existing.shape().rank() != 1) {
            txn.put(key, Views.reshape(existing, Shape.of(existing.elementCount())), true);
        }
        DType dtype = existing == null ? null : existing.dtype();
        for (final CacheValue value : tracked(incoming)) {
            final TensorView batch = dense(key, value, "flatten");
            if (dtype != null && dtype != batch.dtype()) {
                throw new ShapeMismatchException("cannot flatten key '" + key + "': dtype mismatch, it holds " + dtype
                    + ", the batch is " + batch.dtype() + " " + batch.shape());
            }
            txn.append(key, Views.reshape(batch, Shape.of(batch.elementCount())));
            dtype = batch.dtype();
        }
    }

    private void sumOrMean(final Backing.Txn txn, final String key, final CacheValue current,
        final List<CacheValue> incoming, final boolean mean) {
        final List<TensorView> terms = new ArrayList<>(incoming.size() + 1);
        long count = 0;
        if (current != null) {
            final CacheValue sum = mean ? backing.value(sumKey(key)) : null;
            terms.add(dense(key, sum != null ? sum : current, mean ? "mean" : "sum"));
            final String counted = backing.metadata().get(countName(key));
            count = mean && sum != null && counted != null ? Long.parseLong(counted) : 1;
        }
        for (final CacheValue value : tracked(incoming)) {
            final TensorView batch = dense(key, value, mean ? "mean" : "sum");
            if (!terms.isEmpty() && !terms.get(0).shape().equals(batch.shape())) {
                throw new ShapeMismatchException("cannot " + (mean ? "average" : "sum") + " key '" + key
                    + "': the accumulated value is " + terms.get(0).dtype() + " " + terms.get(0).shape()
                    + ", the batch is " + batch.dtype() + " " + batch.shape() + "; shapes must be equal");
            }
            terms.add(batch);
            count++;
        }
        final TensorView sum = Reductions.sum(terms, "sum of key '" + key + "'");
        if (!mean) {
            txn.put(key, sum, true);
            return;
        }
        txn.put(sumKey(key), sum, true);
        txn.put(key, Reductions.divide(Reductions.sum(terms, "sum of key '" + key + "'"), count,
            "mean of key '" + key + "'"), true);
        txn.putMetadata(countName(key), Long.toString(count));
    }

    private void custom(final Backing.Txn txn, final String key, final CacheValue current,
        final List<CacheValue> incoming, final AggregationRegistry.Match match) {
        TensorView accumulated = current == null ? null : dense(key, current, match.toString());
        for (final CacheValue value : tracked(incoming)) {
            final TensorView batch = dense(key, value, match.toString());
            if (accumulated == null) {
                accumulated = batch;
                continue;
            }
            final TensorView result;
            try {
                result = match.aggregation().strategy().combine(key, accumulated.duplicate(), batch.duplicate());
            } catch (final RuntimeException e) {
                throw new StrategyFailedException("strategy " + match + " failed on key '" + key + "' merging "
                    + describe(accumulated) + " with " + describe(batch) + ": " + e + "; the cache is unchanged", e);
            }
            if (result == null) {
                throw new StrategyFailedException("strategy " + match + " returned null for key '" + key
                    + "' merging " + describe(accumulated) + " with " + describe(batch) + "; the cache is unchanged");
            }
            accumulated = result;
        }
        txn.put(key, accumulated, true);
    }

    private static TensorView dense(final String key, final CacheValue value, final String aggregation) {
        if (value.isList()) {
            throw new ShapeMismatchException("key '" + key + "' holds a list of " + value.items().size() + " "
                + value.dtype() + " tensors, but its aggregation " + aggregation + " takes one tensor; register "
                + "keepList for it");
        }
        return value.tensor();
    }

    private static ShapeMismatchException concatMismatch(final String key, final DType dtype, final Shape shape,
        final TensorView batch) {
        if (dtype != null && dtype != batch.dtype()) {
            return new ShapeMismatchException("cannot concat key '" + key + "': dtype mismatch, the cache holds "
                + dtype + " " + shape + ", the batch is " + batch.dtype() + " " + batch.shape());
        }
        return new ShapeMismatchException("cannot concat key '" + key + "' along dim 0: the cache holds "
            + (shape == null ? "nothing" : dtype + " " + shape) + ", the batch is "
            + batch.dtype() + " " + batch.shape() + "; concat needs rank >= 1 and equal trailing dims (no silent "
            + "change of rank: register stack or keepList for this key)");
    }

    private static String describe(final TensorView view) {
        return view.dtype() + " " + view.shape();
    }
}
