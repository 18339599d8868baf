package io.actcache;

/**
 * A key is null, empty, longer than 1,024 UTF-8 bytes or holds control characters.
 */
public class InvalidKeyException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public InvalidKeyException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public InvalidKeyException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
