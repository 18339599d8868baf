package io.actcache;

/**
 * A file's format version is newer than this build can read; the message quotes both versions.
 */
public class FormatTooNewException extends CorruptFileException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public FormatTooNewException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public FormatTooNewException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
