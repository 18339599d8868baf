package io.actcache;

/**
 * A shape has a negative dimension, too many dimensions, or an element or byte count that overflows.
 */
public class InvalidShapeException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public InvalidShapeException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public InvalidShapeException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
