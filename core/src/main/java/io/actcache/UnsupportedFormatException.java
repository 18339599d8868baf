package io.actcache;

/**
 * A well-formed file uses a feature actcache does not read, such as a Fortran-order or big-endian NPY array or
 * an unsupported dtype; the message names the file, the feature and how to convert the data.
 */
public class UnsupportedFormatException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     */
    public UnsupportedFormatException(final String message) {
        super(message);
    }

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public UnsupportedFormatException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
