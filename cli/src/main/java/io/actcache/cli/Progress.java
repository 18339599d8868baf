package io.actcache.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.Console;
import java.lang.reflect.Method;

/**
 * A progress bar in MiB with speed, drawn on stderr only when it helps: when stdout is a terminal and the user
 * did not ask for quiet. Otherwise every call does nothing, so commands call it unconditionally.
 */
final class Progress implements AutoCloseable {
    private static final long MIB = 1L << 20;

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

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
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
