package io.actcache;

/**
 * A call on a store, view or resource after it was closed.
 */
public class AlreadyClosedException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public AlreadyClosedException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public AlreadyClosedException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
