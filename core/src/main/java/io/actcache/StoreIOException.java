package io.actcache;

/**
 * An I/O operation on a store file failed (disk full, permission, missing file); the message names the file.
 */
public class StoreIOException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public StoreIOException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public StoreIOException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
