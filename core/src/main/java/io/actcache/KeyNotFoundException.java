package io.actcache;

/**
 * A key is not in the store; the message names it and up to three closest existing keys.
 */
public class KeyNotFoundException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public KeyNotFoundException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public KeyNotFoundException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
