package io.actcache.cli;

import picocli.CommandLine.Option;

/**
 * How a command prints its result, shared by the commands that do work (import, export, merge, verify,
 * compact): a human summary by default, {@code --json} for scripts, or {@code --quiet}; the two are exclusive
 * (use it as {@code @ArgGroup(exclusive = true)}). Both silence the progress bar.
 */
final class OutputOptions {
    @Option(names = "--json", description = "Print one JSON object (exact numbers) instead of a summary.")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing on success (a failure still prints one line "
        + "on stderr and sets the exit status); no progress bar.")
    boolean quiet;

    /** @return true when no progress bar may be drawn. */
    boolean silent() {
        return json || quiet;
    }
}
