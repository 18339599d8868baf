package io.actcache.cache;

import io.actcache.AlreadyClosedException;
import io.actcache.InvalidKeyException;
import io.actcache.KeyNotFoundException;
import io.actcache.LayerOutOfRangeException;
import io.actcache.ShapeMismatchException;
import io.actcache.UnknownShorthandException;
import io.actcache.store.ActivationStore;
import io.actcache.store.Keys;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * A dictionary of activations, key to tensor (or to a list of tensors), with the merge ({@link #cat}) and lookup
 * behaviour of easyroutine's and TransformerLens's {@code ActivationCache}s. Two backings:
 * <ul>
 *   <li>{@link #onHeap()}: small, one batch; values a user puts are kept, not copied (as a Python dict
 *       keeps them); merges copy the batch's bytes into the cache.</li>
 *   <li>{@link #over(ActivationStore)}: large and persistent; every change is a store commit, a
 *       {@link #cat} of a whole batch is one atomic commit, and merges append to columns.</li>
 * </ul>
 *
 * <pre>{@code
 * try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults());
 *      ActivationCache cache = ActivationCache.over(store)) {
 *     for (ActivationCache batch : batches) {
 *         cache.cat(batch);                        // appends: costs the batch's bytes
 *     }
 *     TensorView resid = cache.get("resid_post", -1);   // shorthand, layer from n_layers metadata
 * }
 * }</pre>
 *
 * <p>{@code cat} into an empty cache adopts the other's keys; otherwise both must hold the same keys, and each
 * key merges by the {@link Aggregation} its {@link AggregationRegistry} picks. A failed {@code cat} (different
 * keys, a dtype or shape mismatch, a strategy that throws) leaves the cache exactly as it was. Keys follow the
 * easyroutine or TransformerLens scheme ({@link KeySchemes}); any other key is accepted with one warning. Keys
 * starting with {@code .actcache/} are the cache's own (a mean's running sum) and are hidden.
 *
 * <p>Threading: one thread at a time, like the store below it. A store-backed cache does not close its store.
 */
public final class ActivationCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ActivationCache.class);
    private static final int TO_STRING_KEYS = 16;
    /** Keys already warned about in this process, so a key seen in every batch warns once; bounded. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();
    private static final int MAX_WARNED = 100_000;

    private final Backing backing;
    private final AggregationRegistry registry;
    private final Set<String> warnedKeys = new TreeSet<>();
    private DeferredMerge deferred;
    private boolean closed;

    private ActivationCache(final Backing backing, final AggregationRegistry registry) {
        this.backing = backing;
        this.registry = registry;
    }

    /** @return an empty cache on the heap with the default aggregations. */
    public static ActivationCache onHeap() {
        return new ActivationCache(new HeapBacking(), AggregationRegistry.withDefaults());
    }

    /**
     * @param store an open store (writable to change the cache); its keys and metadata are the cache's.
     * @return a cache over it with the default aggregations; closing the cache leaves the store open.
     */
    public static ActivationCache over(final ActivationStore store) {
        return new ActivationCache(new StoreBacking(store), AggregationRegistry.withDefaults());
    }

    // ------------------------------------------------------------------------------------------ dictionary

    /**
     * Sets a key (replacing any value and any running mean). On the heap the view is kept, not copied; in a store
     * it is written.
     *
     * @param key   a key; one of another scheme is accepted with one warning.
     * @param value the tensor.
     */
    public void put(final String key, final TensorView value) {
        change(key, txn -> txn.put(key, value, false));
    }

    /**
     * @param key   a key.
     * @param value the tensor.
     * @see #put(String, TensorView)
     */
    public void put(final String key, final Tensor value) {
        put(key, value.view());
    }

    /**
     * Sets a key to a list of tensors of one dtype (any shapes).
     *
     * @param key   a key.
     * @param items the tensors, at least one.
     */
    public void putList(final String key, final List<TensorView> items) {
        CacheValue.ofList(items);
        change(key, txn -> txn.putList(key, items, false));
    }

    /**
     * Reads a key; a key that is absent but is TransformerLens shorthand ({@code "embed"}, {@code "k6"},
     * {@code "scale"}) is resolved as {@code get_act_name} does.
     *
     * @param key a key or shorthand.
     * @return the tensor (a view sharing memory).
     * @throws KeyNotFoundException        naming the key and the closest keys.
     * @throws UnknownShorthandException   when shorthand resolves to no key.
     * @throws ShapeMismatchException      when the key holds a list (use {@link #getList}).
     */
    public TensorView get(final String key) {
        return value(key).tensor();
    }

    /**
     * TransformerLens-style lookup: {@code get("resid_post", 3)}, {@code get("pattern", 5)},
     * {@code get("attn", -1)} (negative layers count back from the {@code n_layers} metadata). Tries the
     * TransformerLens name, then the easyroutine one ({@code resid_out_3}).
     *
     * @param name  shorthand such as {@code resid_pre}, {@code attn}, {@code q}, {@code scale}.
     * @param layer layer index; negative counts from {@code n_layers}.
     * @return the tensor.
     * @throws LayerOutOfRangeException  naming the layer and {@code n_layers}.
     * @throws UnknownShorthandException naming the shorthand and every key tried.
     */
    public TensorView get(final String name, final int layer) {
        return get(name, layer, null);
    }

    /**
     * @param name      shorthand.
     * @param layer     layer index; negative counts from {@code n_layers}.
     * @param layerType {@code attn}/{@code a}, {@code mlp}/{@code m}, {@code ln1}, {@code ln2}, or null.
     * @return the tensor.
     * @see #get(String, int)
     */
    public TensorView get(final String name, final int layer, final String layerType) {
        checkOpen();
        final int resolved = resolveLayer(layer, false);
        final List<String> tried = KeySchemes.candidates(name, resolved, layerType);
        for (final String key : tried) {
            final CacheValue value = Merger.isHidden(key) ? null : backing.value(key);
            if (value != null) {
                return value.tensor();
            }
        }
        throw new UnknownShorthandException("shorthand ('" + name + "', layer " + layer
            + (layerType == null ? "" : ", " + layerType) + ") matches no key of this cache; tried " + tried
            + (layer < 0 ? " (layer " + layer + " is " + resolved + " of n_layers " + nLayers().getAsInt() + ")" : ""));
    }

    /**
     * @param key a key holding a list (a keep-as-list aggregation), or a tensor (returned as a list of one).
     * @return the tensors, in merge order.
     */
    public List<TensorView> getList(final String key) {
        return value(key).items();
    }

    /**
     * @param key a key or shorthand.
     * @return its value, tensor or list.
     */
    public CacheValue value(final String key) {
        checkOpen();
        if (!Merger.isHidden(key)) {
            final CacheValue value = backing.value(Keys.validate(key));
            if (value != null) {
                return value;
            }
        }
        final String full = KeySchemes.actName(key);
        if (!full.equals(key)) {
            final CacheValue value = backing.value(full);
            if (value == null) {
                throw new UnknownShorthandException("key '" + Keys.escape(key) + "' is not in the cache, and as "
                    + "shorthand it names '" + full + "', which is not either; closest keys: " + closest(key));
            }
            return value;
        }
        throw new KeyNotFoundException("key '" + Keys.escape(key) + "' is not in the " + backing.describe()
            + " cache; closest keys: " + closest(key));
    }

    /**
     * @param key a key.
     * @return true when the key is present (exact name; no shorthand).
     */
    public boolean contains(final String key) {
        checkOpen();
        return !Merger.isHidden(key) && backing.value(key) != null;
    }

    /**
     * Removes a key and any running mean of it.
     *
     * @param key a key.
     * @return true when it was present.
     */
    public boolean remove(final String key) {
        if (!contains(key)) {
            return false;
        }
        try (Backing.Txn txn = backing.begin()) {
            txn.remove(key);
            clearRunningMean(txn, key);
            txn.commit();
        }
        return true;
    }

    /** @return the keys: insertion order on the heap, sorted in a store. */
    public List<String> keys() {
        checkOpen();
        final List<String> keys = new ArrayList<>();
        for (final String key : backing.keys()) {
            if (!Merger.isHidden(key)) {
                keys.add(key);
            }
        }
        return keys;
    }

    /** @return the values, in {@link #keys()} order. */
    public List<CacheValue> values() {
        return new ArrayList<>(items().values());
    }

    /** @return key to value, in {@link #keys()} order; a snapshot. */
    public Map<String, CacheValue> items() {
        final Map<String, CacheValue> items = new LinkedHashMap<>();
        for (final String key : keys()) {
            items.put(key, backing.value(key));
        }
        return Collections.unmodifiableMap(items);
    }

    /** @return number of keys. */
    public int size() {
        return keys().size();
    }

    /** @return true when the cache holds no key. */
    public boolean isEmpty() {
        return keys().isEmpty();
    }

    /**
     * Sets every entry (right side wins), in one commit for a store.
     *
     * @param values key to tensor.
     */
    public void update(final Map<String, TensorView> values) {
        checkWritable();
        try (Backing.Txn txn = backing.begin()) {
            values.forEach((key, value) -> {
                noteKey(key);
                txn.put(key, value, false);
                clearRunningMean(txn, key);
            });
            txn.commit();
        }
    }

    /**
     * Sets every entry of another cache (its values win), with their running means, in one commit for a store.
     *
     * @param other another cache.
     */
    public void update(final ActivationCache other) {
        checkWritable();
        other.checkOpen();
        try (Backing.Txn txn = backing.begin()) {
            copyFrom(other, key -> true, txn);
            txn.commit();
        }
    }

    /**
     * The reference's {@code +}: a new heap cache holding this cache's entries, then the other's (the right side
     * wins); values are shared, not copied. The new cache gets a copy of this cache's aggregations and both
     * caches' metadata.
     *
     * @param other another cache.
     * @return the new cache.
     */
    public ActivationCache plus(final ActivationCache other) {
        checkOpen();
        other.checkOpen();
        final ActivationCache sum = new ActivationCache(new HeapBacking(), registry.copy());
        try (Backing.Txn txn = sum.backing.begin()) {
            // Keys the other cache also holds are not copied from this one: the new cache's backing is still empty,
            // so copying the other's value could not clear the running mean this one's value brought along.
            sum.copyFrom(this, key -> !other.contains(key), txn);
            sum.copyFrom(other, key -> true, txn);
            txn.commit();
        }
        return sum;
    }

    /**
     * Merges another cache into this one, key by key, with the registered aggregations. An empty cache adopts the
     * other's keys; otherwise both must hold the same keys. All keys change together (one store commit) or, on
     * any failure, none do.
     *
     * @param other a batch.
     * @throws io.actcache.KeySetMismatchException naming the keys only in this cache and only in the other.
     * @throws ShapeMismatchException              naming the key and both dtypes or shapes.
     * @throws io.actcache.StrategyFailedException when a user strategy throws; the cause is kept.
     */
    public void cat(final ActivationCache other) {
        checkWritable();
        if (deferred != null) {
            throw new IllegalStateException(
                "a deferred merge is open on this cache; cat through it, or close it first");
        }
        mergeBatches(List.of(other.snapshot()));
    }

    /**
     * Starts deferred mode: {@link DeferredMerge#cat} collects batches, and closing it writes each key once (all
     * batches' appends in one commit; sums, means and user strategies folded before one write). The cache is
     * unchanged until then.
     *
     * <pre>{@code
     * try (var deferred = cache.deferred()) {
     *     deferred.cat(batch1);
     *     deferred.cat(batch2);
     * }   // merged here
     * }</pre>
     *
     * @return the open deferred merge; one at a time.
     */
    public DeferredMerge deferred() {
        checkWritable();
        if (deferred != null) {
            throw new IllegalStateException("a deferred merge is already open on this cache");
        }
        deferred = new DeferredMerge(this);
        return deferred;
    }

    // ------------------------------------------------------------------------------------------ aggregations

    /**
     * @param prefix      keys starting with it (or that whole key).
     * @param aggregation a built-in such as {@link Aggregation#stack()}.
     * @return this.
     */
    public ActivationCache registerAggregation(final String prefix, final Aggregation aggregation) {
        registry.register(prefix, aggregation);
        return this;
    }

    /**
     * @param prefix   keys starting with it (or that whole key).
     * @param strategy a user strategy.
     * @return this.
     */
    public ActivationCache registerAggregation(final String prefix, final AggregationStrategy strategy) {
        return registerAggregation(prefix, Aggregation.custom(strategy));
    }

    /**
     * @param regex       keys it matches entirely.
     * @param aggregation how they merge.
     * @return this.
     */
    public ActivationCache registerAggregation(final Pattern regex, final Aggregation aggregation) {
        registry.register(regex, aggregation);
        return this;
    }

    /**
     * @param regex    keys it matches entirely.
     * @param strategy a user strategy.
     * @return this.
     */
    public ActivationCache registerAggregation(final Pattern regex, final AggregationStrategy strategy) {
        return registerAggregation(regex, Aggregation.custom(strategy));
    }

    /** @return this cache's registry (see its precedence rule). */
    public AggregationRegistry aggregations() {
        return registry;
    }

    // ------------------------------------------------------------------------------------------ metadata

    /** @return the metadata (model name, {@code n_layers}, ...: see {@link CacheMetadata}), sorted by name. */
    public Map<String, String> metadata() {
        checkOpen();
        final Map<String, String> visible = new TreeMap<>();
        backing.metadata().forEach((name, value) -> {
            if (!Merger.isHidden(name)) {
                visible.put(name, value);
            }
        });
        return Collections.unmodifiableMap(visible);
    }

    /**
     * Sets metadata entries in one commit (persisted for a store-backed cache).
     *
     * @param values name to value; a null value removes the name.
     */
    public void putMetadata(final Map<String, String> values) {
        checkWritable();
        try (Backing.Txn txn = backing.begin()) {
            values.forEach((name, value) -> txn.putMetadata(checkName(name), value));
            txn.commit();
        }
    }

    /**
     * @param name  a name, e.g. {@link CacheMetadata#N_LAYERS}.
     * @param value its value.
     */
    public void putMetadata(final String name, final String value) {
        final Map<String, String> one = new HashMap<>();
        one.put(name, value);
        putMetadata(one);
    }

    /** @return the {@code n_layers} metadata, if set. */
    public OptionalInt nLayers() {
        final String value = metadata().get(CacheMetadata.N_LAYERS);
        if (value == null) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(value.trim()));
        } catch (final NumberFormatException e) {
            throw new IllegalStateException("metadata " + CacheMetadata.N_LAYERS + " is '" + value
                + "', not an integer", e);
        }
    }

    // ------------------------------------------------------------------------------------------ analyses

    /** @return TransformerLens's analyses over this cache's tensors and metadata. */
    public Analyses analyses() {
        checkOpen();
        return new Analyses(this);
    }

    /**
     * TransformerLens's {@code remove_batch_dim}: the batch size (the most common dim 0 among tensors of rank
     * at least 1) must be 1; those tensors lose their leading dim. Zero-copy.
     *
     * @return a new heap cache of views into this one, with its metadata and aggregations.
     * @throws ShapeMismatchException naming the batch size and a key that has it.
     */
    public ActivationCache removeBatchDim() {
        final long batch = Analyses.batchSize(items());
        if (batch != 1) {
            throw new ShapeMismatchException("cannot remove the batch dim: the batch size is " + batch + " (e.g. key '"
                + Analyses.keyWithDim0(items(), batch) + "'), it must be 1");
        }
        return derived(value -> value.row(0), batch);
    }

    /**
     * TransformerLens's {@code apply_slice_to_batch_dim} for a row range: tensors whose dim 0 is the batch size
     * (the most common dim 0) keep rows {@code [from, to)}; other values are kept whole. Zero-copy.
     *
     * @param from first batch row, inclusive.
     * @param to   last batch row, exclusive.
     * @return a new heap cache of views into this one.
     */
    public ActivationCache sliceBatch(final long from, final long to) {
        final long batch = Analyses.batchSize(items());
        if (from < 0 || to < from || to > batch) {
            throw new IndexOutOfBoundsException("batch rows [" + from + ", " + to + ") out of [0, " + batch + ")");
        }
        return derived(value -> value.rows(from, to), batch);
    }

    // ------------------------------------------------------------------------------------------ accounting

    /** @return bytes held by every key (a mean's running sum counted with its key). */
    public long memorySize() {
        return memorySizes().values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * @param key a key.
     * @return bytes it holds (the tensor, the sum of a list's items, plus a mean's running sum).
     */
    public long memorySize(final String key) {
        if (!contains(key)) {
            throw new KeyNotFoundException("key '" + Keys.escape(key) + "' is not in the cache");
        }
        final CacheValue sum = backing.value(Merger.sumKey(key));
        return backing.value(key).byteSize() + (sum == null ? 0 : sum.byteSize());
    }

    /**
     * @param prefix a key prefix ({@code "blocks.3."}, {@code "resid_"}); empty for all.
     * @return bytes held by keys starting with it.
     */
    public long memorySizeUnder(final String prefix) {
        long total = 0;
        for (final Map.Entry<String, Long> entry : memorySizes().entrySet()) {
            if (entry.getKey().startsWith(prefix)) {
                total += entry.getValue();
            }
        }
        return total;
    }

    /** @return bytes per key and per prefix, printable with human units. */
    public MemoryTree memoryTree() {
        return MemoryTree.of(memorySizes());
    }

    /**
     * @return keys of this cache's history that follow neither naming scheme, sorted. Each was logged once per
     *     process (SLF4J, WARN), however many caches and batches hold it.
     */
    public Set<String> unknownKeys() {
        return Collections.unmodifiableSet(new TreeSet<>(warnedKeys));
    }

    /** @return the backing, the key count, and up to 16 keys with dtype, shape and size. */
    @Override
    public String toString() {
        if (closed) {
            return "ActivationCache[" + backing.describe() + ", closed]";
        }
        final Map<String, CacheValue> items = items();
        final StringBuilder out = new StringBuilder("ActivationCache[").append(backing.describe()).append(", ")
            .append(items.size()).append(items.size() == 1 ? " key" : " keys");
        int shown = 0;
        for (final Map.Entry<String, CacheValue> entry : items.entrySet()) {
            if (shown++ == TO_STRING_KEYS) {
                out.append(", ... ").append(items.size() - TO_STRING_KEYS).append(" more");
                break;
            }
            out.append(shown == 1 ? ": " : ", ").append(entry.getKey()).append('=').append(entry.getValue())
                .append(" (").append(MemoryTree.human(entry.getValue().byteSize())).append(')');
        }
        return out.append(']').toString();
    }

    /** Closes the cache; idempotent. Discards an open deferred merge. A store-backed cache's store stays open. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (deferred != null) {
            deferred.discard();
        }
    }

    // ------------------------------------------------------------------------------------------ package

    /** @return the visible values by key, in key order: a batch as merges read it. */
    Map<String, CacheValue> snapshot() {
        return items();
    }

    /**
     * Merges batches, all or nothing, warning once for each adopted key of no known scheme.
     *
     * @param batches batch values, in merge order.
     */
    void mergeBatches(final List<Map<String, CacheValue>> batches) {
        mergeBatches(batches, List.of());
    }

    /**
     * Merges batches, all or nothing, naming the batch at fault by its label.
     *
     * @param batches batch values, in merge order.
     * @param labels  a label per batch for messages, or empty.
     */
    void mergeBatches(final List<Map<String, CacheValue>> batches, final List<String> labels) {
        final List<String> current = keys();
        new Merger(backing, registry).merge(current, batches, labels);
        if (current.isEmpty() && !batches.isEmpty()) {
            batches.get(0).keySet().forEach(this::noteKey);
        }
    }

    /** Called by the deferred merge when it ends. */
    void deferredEnded() {
        deferred = null;
    }

    /**
     * @param layer      a layer; negative counts back from {@code n_layers}.
     * @param inclusive  whether {@code n_layers} itself is allowed (the final residual stream).
     * @return the non-negative layer.
     * @throws LayerOutOfRangeException naming the layer and the range.
     */
    int resolveLayer(final int layer, final boolean inclusive) {
        final OptionalInt layers = nLayers();
        if (layer < 0 && layers.isEmpty()) {
            throw new LayerOutOfRangeException("layer " + layer + " counts back from n_layers, but the cache has no "
                + CacheMetadata.N_LAYERS + " metadata; set it with putMetadata");
        }
        final int resolved = layer < 0 ? layers.getAsInt() + layer : layer;
        final int limit = layers.isPresent() ? layers.getAsInt() + (inclusive ? 1 : 0) : Integer.MAX_VALUE;
        if (resolved < 0 || resolved >= limit) {
            throw new LayerOutOfRangeException("layer " + layer + " is out of range: n_layers is "
                + layers.getAsInt() + ", so layers run from " + -layers.getAsInt() + " to "
                + (limit - 1) + (inclusive ? " (" + layers.getAsInt() + " is the final residual stream)" : ""));
        }
        return resolved;
    }

    void checkWritable() {
        checkOpen();
    }

    void checkOpen() {
        if (closed) {
            throw new AlreadyClosedException("activation cache over " + backing.describe() + " is closed");
        }
    }

    // ------------------------------------------------------------------------------------------ internals

    private void change(final String key, final Consumer<Backing.Txn> change) {
        checkWritable();
        checkName(key);
        noteKey(key);
        try (Backing.Txn txn = backing.begin()) {
            change.accept(txn);
            clearRunningMean(txn, key);
            txn.commit();
        }
    }

    private void copyFrom(final ActivationCache source, final Predicate<String> keys, final Backing.Txn txn) {
        for (final String key : source.keys()) {
            if (!keys.test(key)) {
                continue;
            }
            noteKey(key);
            final CacheValue value = source.backing.value(key);
            if (value.isList()) {
                txn.putList(key, value.items(), false);
            } else {
                txn.put(key, value.tensor(), false);
            }
            final CacheValue sum = source.backing.value(Merger.sumKey(key));
            if (sum != null) {
                txn.put(Merger.sumKey(key), sum.tensor(), false);
                txn.putMetadata(Merger.countName(key), source.backing.metadata().get(Merger.countName(key)));
            } else {
                clearRunningMean(txn, key);
            }
        }
        source.metadata().forEach(txn::putMetadata);
    }

    private void clearRunningMean(final Backing.Txn txn, final String key) {
        if (backing.value(Merger.sumKey(key)) != null) {
            txn.remove(Merger.sumKey(key));
        }
        if (backing.metadata().containsKey(Merger.countName(key))) {
            txn.putMetadata(Merger.countName(key), null);
        }
    }

    private ActivationCache derived(final UnaryOperator<TensorView> slice, final long batch) {
        final ActivationCache result = new ActivationCache(new HeapBacking(), registry.copy());
        try (Backing.Txn txn = result.backing.begin()) {
            items().forEach((key, value) -> {
                if (!value.isList() && value.tensor().shape().rank() > 0 && value.tensor().shape().dim(0) == batch) {
                    txn.put(key, slice.apply(value.tensor()), false);
                } else if (value.isList()) {
                    txn.putList(key, value.items(), false);
                } else {
                    txn.put(key, value.tensor(), false);
                }
            });
            metadata().forEach(txn::putMetadata);
            txn.commit();
        }
        result.warnedKeys.addAll(warnedKeys);
        return result;
    }

    private Map<String, Long> memorySizes() {
        final Map<String, Long> sizes = new LinkedHashMap<>();
        for (final String key : keys()) {
            sizes.put(key, memorySize(key));
        }
        return sizes;
    }

    private void noteKey(final String key) {
        if (KeySchemes.schemeOf(key) == KeySchemes.Scheme.UNKNOWN && warnedKeys.add(key)
            && WARNED.size() < MAX_WARNED && WARNED.add(key)) {
            LOG.warn("key '{}' follows neither the easyroutine nor the TransformerLens naming scheme; accepted as a "
                + "user-defined key", Keys.escape(key));
        }
    }

    private static String checkName(final String name) {
        Keys.validate(name);
        if (Merger.isHidden(name)) {
            throw new InvalidKeyException("'" + Keys.escape(name) + "' starts with " + Merger.HIDDEN
                + ", which the cache reserves for its own keys");
        }
        return name;
    }

    private List<String> closest(final String key) {
        return Keys.closest(key, keys(), 3);
    }
}
