package io.actcache.cache;

import io.actcache.tensor.TensorView;

/**
 * A user's way to merge one key across batches, registered with
 * {@link ActivationCache#registerAggregation(String, AggregationStrategy)}. The cache calls it once per incoming
 * batch, in merge order, and stores what it returns (replacing the column: a user strategy costs the size of
 * its result, where the built-in {@link Aggregation}s append).
 *
 * <pre>{@code
 * cache.registerAggregation("values_", (key, accumulated, batch) -> myElementwiseMax(accumulated, batch));
 * }</pre>
 *
 * <p>Anything it throws (or a null result) fails the whole merge with a
 * {@link io.actcache.StrategyFailedException} naming the key; the cache is then exactly as it was before it.
 */
@FunctionalInterface
public interface AggregationStrategy {
    /**
     * @param key         the key being merged.
     * @param accumulated the key's value so far (read-only; valid during the call).
     * @param batch       the new batch's value for the key.
     * @return the new value; may be a view the strategy made, it is copied or written before the merge ends.
     */
    TensorView combine(String key, TensorView accumulated, TensorView batch);
}
