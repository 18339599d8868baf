package io.actcache.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rules every fuzz target checks: a parser either succeeds or throws one of its documented exceptions (and
 * never one that merely wraps a programming error), it allocates no more than the input backs, and a fuzzing run
 * reaches a minimum number of executions.
 *
 * <p>Design note: the allocation rule is what catches a reader that trusts a length field. A parse may allocate a
 * fixed amount plus a multiple of the input (the bytes it reads, their decoded text, an exception), never an amount
 * a damaged length field asks for. It is measured with the current thread's allocation counter, so the fuzz target
 * needs no small heap to see it. That counter also sees what Jazzer's agent allocates on the same thread: every
 * string comparison in our code is traced, and each trace encodes both strings afresh. Fuzz targets, which always
 * run under the agent, therefore get {@link #TRACED_ALLOCATION_PER_INPUT_BYTE}; plain tests, which never do, hold a
 * parser to {@link #ALLOCATION_PER_INPUT_BYTE}.
 */
public final class FuzzChecks {
    /** System property set by the pom's fuzzing executions: the executions a fuzzing run must reach. */
    public static final String MIN_EXECUTIONS_PROPERTY = "actcache.fuzz.minExecutions";
    /** Allocation any single parse may make regardless of its input: buffers, exceptions, stack traces. */
    public static final long FIXED_ALLOCATION_ALLOWANCE = 256 << 10;
    /**
     * Allocation per input byte a parse may make on top of the fixed allowance when nothing traces it: a plain test's
     * JVM. A 2.2 KB manifest of a hundred repeated fields measured 24 KB, about 11 bytes per input byte.
     */
    public static final long ALLOCATION_PER_INPUT_BYTE = 256;
    /**
     * Allocation per input byte a parse may make on top of the fixed allowance under Jazzer's agent, whose traced
     * comparisons allocate on the parsing thread (JFR: almost all of it in {@code TraceDataFlowNativeCallbacks
     * .encodeForLibFuzzer}). Manifests of many short fields reach 460 bytes per input byte after 45 s of fuzzing,
     * safetensors headers 245, the binary readers nothing above the fixed allowance; a length field asking for a
     * megabyte from a few hundred bytes of input still stands out.
     */
    public static final long TRACED_ALLOCATION_PER_INPUT_BYTE = 2048;
    /** Further runs of a parse that went over the allocation limit before it counts as a finding. */
    public static final int ALLOCATION_RETRIES = 3;

    /** JDK exceptions that signal a missing check in our code even when a documented exception wraps them. */
    private static final Set<Class<? extends Throwable>> BUG_CAUSES = Set.of(NullPointerException.class,
        IndexOutOfBoundsException.class, NegativeArraySizeException.class, ArithmeticException.class,
        ClassCastException.class, IllegalStateException.class);

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private FuzzChecks() {
    }

    /**
     * Replaces a file's content in place: positional writes, then a truncate to the new length. Faster by several
     * times than {@code Files.write}, whose truncate-to-zero-then-write makes ext4 start writeback at close
     * (auto_da_alloc), which would otherwise dominate each fuzz execution.
     *
     * @param file    the file, created when missing.
     * @param content its new content.
     */
    public static void overwrite(final Path file, final byte[] content) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            final ByteBuffer bytes = ByteBuffer.wrap(content);
            while (bytes.hasRemaining()) {
                channel.write(bytes, bytes.position());
            }
            channel.truncate(content.length);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** @return bytes the current thread has allocated so far; the difference of two calls is what ran between. */
    public static long allocatedBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /**
     * Rethrows {@code thrown} unless it is one of the documented exception types and does not directly wrap a
     * programming error (a null pointer, a bad index, a negative array size...).
     *
     * @param thrown     what the parser threw.
     * @param documented the exception types the parser documents.
     */
    @SafeVarargs
    public static void checkDocumented(final RuntimeException thrown,
        final Class<? extends RuntimeException>... documented) {
        boolean allowed = false;
        for (final Class<? extends RuntimeException> type : documented) {
            allowed |= type.isInstance(thrown);
        }
        if (!allowed) {
            throw thrown;
        }
        // Only the direct cause: a parser that wraps whatever went wrong must not be hiding a missing check, while
        // a deeper cause (Shape's multiplyExact overflow inside InvalidShapeException) is a deliberate translation.
        final Throwable cause = thrown.getCause();
        for (final Class<? extends Throwable> bug : BUG_CAUSES) {
            if (bug.isInstance(cause)) {
                throw new AssertionError("a documented " + thrown.getClass().getSimpleName()
                    + " wraps a programming error: " + thrown.getMessage(), thrown);
            }
        }
    }

    /**
     * {@link #withinAllocation(long, long, String, Supplier)} for a fuzz target: a parse under Jazzer's agent, allowed
     * {@value #TRACED_ALLOCATION_PER_INPUT_BYTE} bytes per input byte.
     *
     * @param inputLength bytes of input the parse is given.
     * @param what        the parser, for the message.
     * @param parse       the parse; it handles its own documented exceptions.
     * @param <T>         the parse's result.
     * @return the result of the first run.
     */
    public static <T> T withinAllocation(final long inputLength, final String what, final Supplier<T> parse) {
        return withinAllocation(inputLength, TRACED_ALLOCATION_PER_INPUT_BYTE, what, parse);
    }

    /**
     * Runs a parse and fails when it allocated more than its input backs. A parse over the limit runs again, up to
     * {@value #ALLOCATION_RETRIES} more times, and fails only if every run was over: one-time costs (class loading,
     * a parser's first buffers, the fuzzer's own bookkeeping) are not blamed on the input, while an allocation a
     * length field asks for repeats on every run.
     *
     * @param inputLength  bytes of input the parse is given.
     * @param perInputByte bytes the parse may allocate per input byte on top of the fixed allowance.
     * @param what         the parser, for the message.
     * @param parse        the parse; it handles its own documented exceptions.
     * @param <T>          the parse's result.
     * @return the result of the first run.
     */
    public static <T> T withinAllocation(final long inputLength, final long perInputByte, final String what,
        final Supplier<T> parse) {
        final long limit = FIXED_ALLOCATION_ALLOWANCE + perInputByte * inputLength;
        long before = THREADS.getCurrentThreadAllocatedBytes();
        final T result = parse.get();
        long fewest = THREADS.getCurrentThreadAllocatedBytes() - before;
        for (int retry = 0; retry < ALLOCATION_RETRIES && fewest > limit; retry++) {
            before = THREADS.getCurrentThreadAllocatedBytes();
            parse.get();
            fewest = Math.min(fewest, THREADS.getCurrentThreadAllocatedBytes() - before);
        }
        if (fewest > limit) {
            throw new AssertionError(what + " allocated at least " + fewest + " bytes in each of "
                + (ALLOCATION_RETRIES + 1) + " runs on a " + inputLength + "-byte input, more than the " + limit
                + " the input backs");
        }
        return result;
    }

    /**
     * In a fuzzing run (the pom sets {@value #MIN_EXECUTIONS_PROPERTY}), fails when the target ran fewer times than
     * required: a run that silently did little work must not pass. Does nothing in regression runs.
     *
     * @param executions how often the fuzz target ran.
     * @param target     the fuzz target, for the message.
     */
    public static void checkMinimumExecutions(final long executions, final String target) {
        final String minimum = System.getProperty(MIN_EXECUTIONS_PROPERTY);
        if (minimum == null || minimum.isBlank()) {
            return;
        }
        assertTrue(executions >= Long.parseLong(minimum.strip()), target + " ran " + executions
            + " times in this fuzzing run, fewer than the required " + minimum.strip());
        System.out.println(target + ": " + executions + " fuzz executions (minimum " + minimum.strip() + ")");
    }
}
