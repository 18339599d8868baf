package io.actcache;

/**
 * A shorthand activation name (such as {@code get("resid_post", 3)}) resolves to no key of the cache; the
 * message names the shorthand, the layer and every full key that was tried.
 */
public class UnknownShorthandException extends KeyNotFoundException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the key(s), shapes or layer.
     */
    public UnknownShorthandException(final String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the key(s), shapes or layer.
     * @param cause   the underlying failure.
     */
    public UnknownShorthandException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
