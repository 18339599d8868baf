package io.actcache;

/**
 * A directory given as a store is missing or holds no actcache store.
 */
public class NotAStoreException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public NotAStoreException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public NotAStoreException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
