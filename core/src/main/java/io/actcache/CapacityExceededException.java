package io.actcache;

/**
 * A bounded resource (index capacity, mapping budget, tensor size limit) cannot take the request.
 */
public class CapacityExceededException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public CapacityExceededException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public CapacityExceededException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
