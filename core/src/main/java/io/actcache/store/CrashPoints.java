package io.actcache.store;

/**
 * Test hook for crash tests: widens the windows between the steps of a commit (and of the file collection after
 * a checkpoint) so that a test killing the process can land inside each one, and announces each window on stdout
 * ({@code "phase DATA_WRITE"}).
 * Off unless the system property {@code actcache.test.crashWindowMillis} is positive when this class loads;
 * when off, {@link #at(Phase)} is an empty call the JIT removes.
 */
final class CrashPoints {
    /** The windows of a commit, in order. */
    enum Phase {
        /** Between data writes of a batch, before the commit. */
        DATA_WRITE,
        /** Halfway through writing a journal record (a kill here leaves a torn record). */
        JOURNAL_WRITE,
        /** After the commit point, before NPY headers are rewritten. */
        HEADER_REWRITE,
        /** After the headers, before the index applies the record. */
        INDEX_UPDATE,
        /** Between writing the manifest and starting the new journal generation. */
        CHECKPOINT,
        /**
         * After a checkpoint (or a recovery) deleted the first of the column files no key references, before the
         * rest: a kill here leaves some garbage behind, which the next open collects.
         */
        COLLECT
    }

    private static final long WINDOW_MILLIS = Long.getLong("actcache.test.crashWindowMillis", 0);

    private CrashPoints() {
    }

    /** @return true when the hook is on. */
    static boolean enabled() {
        return WINDOW_MILLIS > 0;
    }

    /**
     * Announces a window and waits in it, when the hook is on.
     *
     * @param phase the window.
     */
    static void at(final Phase phase) {
        if (WINDOW_MILLIS > 0) {
            System.out.println("phase " + phase);
            System.out.flush();
            try {
                Thread.sleep(WINDOW_MILLIS);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
