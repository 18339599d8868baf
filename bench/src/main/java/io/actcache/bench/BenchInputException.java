package io.actcache.bench;

/**
 * Bad input to the benchmark suite: an option, a benchmark filter, an output directory or a results file that
 * cannot be used. The message names the input at fault; nothing has been run or written when it is thrown.
 */
public final class BenchInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong, naming the input. */
    public BenchInputException(final String message) {
        super(message);
    }

    /**
     * @param message what is wrong, naming the input.
     * @param cause   the underlying failure.
     */
    public BenchInputException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
