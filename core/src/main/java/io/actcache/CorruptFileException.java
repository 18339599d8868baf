package io.actcache;

/**
 * A file of the store is damaged: wrong magic, bad checksum, truncated or unparsable. Names the file and offset.
 */
public class CorruptFileException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public CorruptFileException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public CorruptFileException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
