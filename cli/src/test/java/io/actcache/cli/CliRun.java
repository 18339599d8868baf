package io.actcache.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The outcome of one in-process run of {@code actcache}, with its output captured.
 *
 * @param code exit status.
 * @param out  stdout.
 * @param err  stderr.
 */
record CliRun(int code, String out, String err) {
    /** True when stack traces are on for the whole test run, so stderr may hold more than one line. */
    static final boolean DEBUG_ENV = System.getenv(ExitCodes.DEBUG_ENV) != null;

    /**
     * @param args the command line.
     * @return the outcome.
     */
    static CliRun execute(final String... args) {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine commandLine = Main.commandLine(args);
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        final int code = commandLine.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** @return the first line of stderr, the one-line message of a failure. */
    String firstErrLine() {
        return err.lines().findFirst().orElse("");
    }

    /**
     * Every regular file under a directory with its bytes' hash, to show that a failed command changed nothing.
     *
     * @param dir a directory.
     * @return relative path to content hash.
     * @throws IOException when reading fails.
     */
    static Map<String, Integer> snapshot(final Path dir) throws IOException {
        final Map<String, Integer> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (final Path file : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                files.put(dir.relativize(file).toString(), Arrays.hashCode(Files.readAllBytes(file)));
            }
        }
        return files;
    }
}
