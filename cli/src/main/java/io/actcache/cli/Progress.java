package io.actcache.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.Console;
import java.lang.reflect.Method;
import java.util.function.LongSupplier;

/**
 * A progress bar in MiB with speed, drawn on stderr only when it helps: when stdout is a terminal and the user
 * did not ask for quiet. Otherwise every call does nothing, so commands call it unconditionally.
 */
final class Progress implements AutoCloseable {
    private static final long MIB = 1L << 20;
    private static final long POLL_MILLIS = 250;

    private final ProgressBar bar;

    private Progress(final ProgressBar bar) {
        this.bar = bar;
    }

    /**
     * @param task  what is measured, for example {@code "write"}.
     * @param bytes total bytes the task moves.
     * @param quiet true to draw nothing.
     * @return the progress.
     */
    static Progress start(final String task, final long bytes, final boolean quiet) {
        if (quiet || !stdoutIsTerminal()) {
            return new Progress(null);
        }
        return new Progress(new ProgressBarBuilder().setTaskName(task).setInitialMax(bytes)
            .setStyle(ProgressBarStyle.ASCII).setUnit(" MiB", MIB).showSpeed().setUpdateIntervalMillis(250).build());
    }

    /**
     * @param bytes bytes done since the last step.
     */
    void step(final long bytes) {
        if (bar != null) {
            bar.stepBy(bytes);
        }
    }

    /**
     * @return a listener for the library's progress reports ({@code done} of {@code total} bytes) that moves this
     *     bar, or ignores them when no bar is drawn.
     */
    io.actcache.interop.ProgressListener listener() {
        if (bar == null) {
            return io.actcache.interop.ProgressListener.NONE;
        }
        return (done, total) -> {
            if (bar.getMax() != total) {
                bar.maxHint(total);
            }
            bar.stepTo(done);
        };
    }

    /**
     * Moves the bar from a counter sampled in the background, for work that reports no steps of its own (one
     * store commit of many keys, say). Close the poll when the work is done.
     *
     * @param done bytes done so far; read from another thread, so it must be safe to call from one.
     * @return the running poll.
     */
    Poll poll(final LongSupplier done) {
        return new Poll(done);
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }

    /** A background sampler of a byte counter that moves the bar; does nothing when no bar is drawn. */
    final class Poll implements AutoCloseable {
        private final Thread sampler;

        private Poll(final LongSupplier done) {
            if (bar == null) {
                sampler = null;
                return;
            }
            sampler = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        bar.stepTo(done.getAsLong());
                        Thread.sleep(POLL_MILLIS);
                    }
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "actcache-progress");
            sampler.setDaemon(true);
            sampler.start();
        }

        /** Stops sampling; the bar keeps its last position. */
        @Override
        public void close() {
            if (sampler != null) {
                sampler.interrupt();
                try {
                    sampler.join();
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * @return true when stdout is an interactive terminal. JDK 17 has a console only when stdin and stdout are
     *     terminals; JDK 22 and later always have one and tell with {@code Console.isTerminal()}.
     */
    static boolean stdoutIsTerminal() {
        final Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            final Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (final NoSuchMethodException e) {
            return true;
        } catch (final ReflectiveOperationException e) {
            return false;
        }
    }
}
