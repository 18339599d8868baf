package io.actcache;

/**
 * Two caches merged by {@code cat} hold different key sets; the message names the keys only in the target and
 * the keys only in the batch. The target cache is unchanged.
 */
public class KeySetMismatchException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the key(s), shapes or layer.
     */
    public KeySetMismatchException(final String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the key(s), shapes or layer.
     * @param cause   the underlying failure.
     */
    public KeySetMismatchException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
