package io.actcache;

/**
 * A file or directory named as input (to import) does not exist, or a directory holds no file actcache reads.
 * The message names the path.
 */
public class InputNotFoundException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what is missing.
     */
    public InputNotFoundException(final String message) {
        super(message);
    }

    /**
     * @param message what is missing.
     * @param cause   the underlying failure.
     */
    public InputNotFoundException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
