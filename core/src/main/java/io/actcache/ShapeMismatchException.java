package io.actcache;

/**
 * A tensor's dtype or shape does not fit the column or operation; the message names the key and both shapes.
 */
public class ShapeMismatchException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public ShapeMismatchException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public ShapeMismatchException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
