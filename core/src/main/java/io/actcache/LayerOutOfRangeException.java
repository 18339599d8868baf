package io.actcache;

/**
 * A layer index is outside {@code [0, n_layers)} (or {@code [0, n_layers]} where the final residual stream
 * counts), or is negative while the cache has no {@code n_layers} metadata; the message names the layer and
 * the range.
 */
public class LayerOutOfRangeException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the key(s), shapes or layer.
     */
    public LayerOutOfRangeException(final String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the key(s), shapes or layer.
     * @param cause   the underlying failure.
     */
    public LayerOutOfRangeException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
