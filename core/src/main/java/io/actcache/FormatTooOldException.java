package io.actcache;

/**
 * A file's format version is older than this build can read; the message quotes both versions.
 */
public class FormatTooOldException extends CorruptFileException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public FormatTooOldException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public FormatTooOldException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
