package io.actcache;

/**
 * Root of every exception actcache throws. Unchecked: a caller catches a subclass it can act on, or
 * lets this propagate. Messages name the key, shape or file at fault and the expected versus the actual
 * value.
 */
public class ActCacheException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, on which resource, expected versus actual.
     */
    public ActCacheException(final String message) {
        super(message);
    }

    /**
     * @param message what failed, on which resource, expected versus actual.
     * @param cause   the underlying failure, kept for diagnosis.
     */
    public ActCacheException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
