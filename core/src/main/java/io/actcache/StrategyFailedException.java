package io.actcache;

/**
 * A user aggregation strategy threw or returned nothing while merging a key; the message names the key, the
 * pattern that chose the strategy and the shapes involved, and the cause is kept. The cache is unchanged.
 */
public class StrategyFailedException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the key(s), shapes or layer.
     */
    public StrategyFailedException(final String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the key(s), shapes or layer.
     * @param cause   the underlying failure.
     */
    public StrategyFailedException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
