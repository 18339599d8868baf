package io.actcache.cli;

import io.actcache.BadFileFormatException;
import io.actcache.CorruptFileException;
import io.actcache.InputNotFoundException;
import io.actcache.StoreIOException;
import io.actcache.UnsupportedFormatException;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The exit codes of {@code actcache} and the one place that maps failures to them and reports them.
 *
 * <p>A failure prints exactly one line first, {@code actcache: <message>}, on stderr; the stack trace follows
 * only with {@code --verbose} (on any command) or the environment variable {@code ACTCACHE_DEBUG=1}, so scripts
 * can show the first line of stderr to a user as it is.
 */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** Bad input or usage: unknown command or option, no such store, a key that is not there, ... */
    public static final int USAGE = 1;
    /** A store file is damaged or has an unsupported format version. */
    public static final int CORRUPT = 2;
    /** An I/O operation failed (disk full, permission denied, ...). */
    public static final int IO = 3;

    /** Environment variable that turns on stack traces, as {@code --verbose} does. */
    public static final String DEBUG_ENV = "ACTCACHE_DEBUG";

    private static final String PREFIX = "actcache: ";
    /** Failures of the input a command was given, mapped to {@link #USAGE} whatever their causes. */
    private static final List<Class<? extends Throwable>> BAD_INPUT = List.of(BadFileFormatException.class,
        UnsupportedFormatException.class, InputNotFoundException.class);

    private ExitCodes() {
    }

    /**
     * @param failure what a command threw (a cause chain is searched for the most specific mapping).
     * @return the exit code for it.
     */
    public static int of(final Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CorruptFileException) {
                return CORRUPT;
            }
            if (t instanceof StoreIOException || t instanceof IOException || t instanceof UncheckedIOException) {
                return IO;
            }
            // A bad input file is the user's input, whatever its parser threw underneath (a JSON or UTF-8 error
            // is an IOException, an NPY header error a CorruptFileException): not a damaged store, not the disk.
            if (isBadInput(t)) {
                return USAGE;
            }
        }
        return USAGE;
    }

    private static boolean isBadInput(final Throwable failure) {
        return BAD_INPUT.stream().anyMatch(type -> type.isInstance(failure));
    }

    /**
     * @param failure a failure.
     * @return its message on one line, with the exception's simple class name when it has no useful message or
     *     is not one of ours (an {@code IOException} message alone is often just a path).
     */
    public static String message(final Throwable failure) {
        final String text = failure.getMessage();
        final boolean ours = failure instanceof io.actcache.ActCacheException || failure instanceof ParameterException
            || failure instanceof IllegalArgumentException;
        final String line = text == null || text.isBlank() ? failure.getClass().getName()
            : ours ? text : failure.getClass().getSimpleName() + ": " + text;
        return line.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
    }

    /**
     * Picocli's handler for exceptions thrown by a running command: one line, an optional trace, the mapped code.
     *
     * @param failure     what the command threw.
     * @param commandLine the command that threw it.
     * @param parseResult the parse result of the whole command line.
     * @return the exit code.
     */
    static int handleExecutionException(final Exception failure, final CommandLine commandLine,
        final ParseResult parseResult) {
        final Throwable cause = failure instanceof CommandLine.ExecutionException && failure.getCause() != null
            ? failure.getCause() : failure;
        final PrintWriter err = commandLine.getErr();
        err.println(PREFIX + message(cause));
        if (verbose(parseResult)) {
            cause.printStackTrace(err);
        }
        err.flush();
        return of(cause);
    }

    /**
     * Picocli's handler for usage errors (unknown command or option, bad value): one line, suggestions, a hint.
     *
     * @param failure what the parser threw.
     * @param args    the arguments.
     * @return {@link #USAGE}.
     */
    static int handleParameterException(final ParameterException failure, final String[] args) {
        final CommandLine commandLine = failure.getCommandLine();
        final PrintWriter err = commandLine.getErr();
        err.println(PREFIX + message(failure));
        CommandLine.UnmatchedArgumentException.printSuggestions(failure, err);
        if (debugFromEnvironment()) {
            failure.printStackTrace(err);
        }
        err.println("Try '" + commandLine.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return USAGE;
    }

    private static boolean verbose(final ParseResult parseResult) {
        for (ParseResult result = parseResult; result != null; result = result.subcommand()) {
            if (result.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return debugFromEnvironment();
    }

    private static boolean debugFromEnvironment() {
        final String value = System.getenv(DEBUG_ENV);
        return value != null && !value.isEmpty() && !"0".equals(value) && !"false".equalsIgnoreCase(value);
    }
}
