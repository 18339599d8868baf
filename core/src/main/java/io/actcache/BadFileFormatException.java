package io.actcache;

/**
 * A file given to actcache to read (a safetensors or NPY file to import) is not a valid file of its format:
 * truncated, a header length beyond the file, invalid JSON, offsets that overlap, leave gaps or disagree with a
 * tensor's shape, duplicate names, an unknown dtype name. The message names the file and, where one is at fault,
 * the tensor, with the expected versus the actual value.
 *
 * <p>Unlike {@link CorruptFileException}, which reports damage to a store's own files, this reports bad input a
 * user supplied; nothing was changed.
 */
public class BadFileFormatException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, on which file and tensor.
     */
    public BadFileFormatException(final String message) {
        super(message);
    }

    /**
     * @param message what failed, on which file and tensor.
     * @param cause   the underlying failure.
     */
    public BadFileFormatException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
