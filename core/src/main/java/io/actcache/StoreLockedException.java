package io.actcache;

/**
 * Another writer (thread or process) holds the store's lock; the message names the lock file and holder pid.
 */
public class StoreLockedException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public StoreLockedException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public StoreLockedException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
