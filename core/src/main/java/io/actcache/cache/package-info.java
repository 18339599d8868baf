/**
 * The user-facing activation cache: {@link io.actcache.cache.ActivationCache}, a dictionary of tensors on the
 * heap or over an {@link io.actcache.store.ActivationStore}, with the merge behaviour of easyroutine's cache
 * ({@code cat}, per-pattern {@link io.actcache.cache.Aggregation}s chosen by an
 * {@link io.actcache.cache.AggregationRegistry}, deferred mode) and the lookups and analyses of
 * TransformerLens's ({@link io.actcache.cache.KeySchemes shorthand}, {@link io.actcache.cache.Analyses}).
 *
 * <p>Merges append: merging batch N into a store-backed cache writes batch N's bytes, not the column's. Every
 * class here is confined to one thread at a time. See {@code docs/CACHE.md}.
 */
package io.actcache.cache;
