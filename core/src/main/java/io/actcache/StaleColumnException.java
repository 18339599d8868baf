package io.actcache;

/**
 * A read needed a column file that no longer exists: its key was replaced, removed or rewritten by
 * {@code compact}, and a checkpoint deleted the old file. Never wrong data: column ids are not reused, so a stale
 * path can only be missing. A reader in another process {@code refresh()}es and gets the key again; a writer gets
 * the key again. The message names the key and the file.
 */
public class StaleColumnException extends StoreIOException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and on which resource.
     * @param cause   the underlying failure.
     */
    public StaleColumnException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
