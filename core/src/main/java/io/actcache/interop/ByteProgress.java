package io.actcache.interop;

/**
 * Bytes moved against a total, reported to a {@link ProgressListener}; shared by import and export. The total may
 * grow while inputs are being opened; done never passes it. One thread only.
 */
final class ByteProgress {
    private final ProgressListener listener;
    private long total;
    private long done;

    ByteProgress(final ProgressListener listener) {
        this.listener = listener;
    }

    /** @param bytes more bytes the whole operation will move. */
    void addToTotal(final long bytes) {
        total += bytes;
    }

    /** @param bytes bytes just moved; reported at once. */
    void add(final long bytes) {
        done = Math.min(total, done + bytes);
        report();
    }

    /** Marks everything done and reports it. */
    void finish() {
        done = total;
        report();
    }

    /** Reports the current counts. */
    void report() {
        listener.progress(done, total);
    }

    /** @return the total bytes. */
    long total() {
        return total;
    }
}
