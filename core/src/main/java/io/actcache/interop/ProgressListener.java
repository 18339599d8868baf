package io.actcache.interop;

/**
 * Receives the progress of an import or export in bytes of tensor data, for a progress bar. Called on the thread
 * doing the work, often (every few MiB), so it must be cheap; it must not throw.
 */
@FunctionalInterface
public interface ProgressListener {
    /** A listener that ignores every report. */
    ProgressListener NONE = (done, total) -> { };

    /**
     * @param bytesDone  tensor bytes moved so far; never decreases, reaches {@code bytesTotal} at the end.
     * @param bytesTotal tensor bytes the whole operation moves.
     */
    void progress(long bytesDone, long bytesTotal);
}
