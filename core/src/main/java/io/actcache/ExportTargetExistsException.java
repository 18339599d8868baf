package io.actcache;

/**
 * An export's target path already exists and replacing it was not asked for, or it holds files no export writes
 * (so replacing it could destroy unrelated data). The message names the path and what to do.
 */
public class ExportTargetExistsException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message the path and why it is not replaced.
     */
    public ExportTargetExistsException(final String message) {
        super(message);
    }
}
