package io.actcache.format;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.actcache.BadFileFormatException;
import io.actcache.UnsupportedFormatException;
import io.actcache.testing.FuzzChecks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.Arguments;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link SafetensorsHeader#parse(ByteBuffer, String)} on a buffer and
 * {@link SafetensorsHeader#read(FileChannel, String)} on a real file of the same bytes. Without {@code JAZZER_FUZZ}
 * it runs once per seed (every safetensors file the real Python library wrote into the fixtures); the pom's fuzzing
 * execution mutates them for a bounded time.
 *
 * <p>Allowed outcomes: a header, or {@link BadFileFormatException}, {@link UnsupportedFormatException}. Both entry
 * points must agree: the same header, or the same exception type. A header that parses describes tensors that lie
 * within the input, and a parse allocates no more than the input backs.
 */
class SafetensorsHeaderFuzzTest {
    @TempDir
    static Path tmp;
    private static long executions;

    @org.junit.jupiter.params.provider.MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void parseAndReadNeverFailUndocumented(final byte[] input) throws IOException {
        executions++;
        final Path file = tmp.resolve("fuzz.safetensors");
        FuzzChecks.overwrite(file, input);
        final Outcome parsed = FuzzChecks.withinAllocation(input.length, "SafetensorsHeader.parse",
            () -> outcome(() -> SafetensorsHeader.parse(ByteBuffer.wrap(input), "fuzz.safetensors")));
        final Outcome read;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            read = FuzzChecks.withinAllocation(input.length, "SafetensorsHeader.read",
                () -> outcome(() -> SafetensorsHeader.read(channel, "fuzz.safetensors")));
        }
        assertEquals(parsed.describe(), read.describe(), "parse of the bytes and read of the file must agree");
        if (parsed.header() != null) {
            for (final SafetensorsHeader.Entry entry : parsed.header().entries()) {
                assertTrue(parsed.header().dataOffset() + entry.end() <= input.length,
                    entry + " must lie within the " + input.length + "-byte input");
                assertEquals(entry.end() - entry.begin(), entry.byteSize(), entry + " must match its shape");
            }
        }
    }

    @AfterAll
    static void ranEnough() {
        FuzzChecks.checkMinimumExecutions(executions, "SafetensorsHeaderFuzzTest");
    }

    /**
     * A parse's result: the header, or the type of the documented exception it threw.
     *
     * @param header  the header, or null.
     * @param failure the exception type, or null.
     */
    private record Outcome(SafetensorsHeader header, Class<?> failure) {
        String describe() {
            return header != null ? header.toString() : failure.getName();
        }
    }

    private static Outcome outcome(final Supplier<SafetensorsHeader> parser) {
        try {
            return new Outcome(parser.get(), null);
        } catch (final RuntimeException e) {
            FuzzChecks.checkDocumented(e, BadFileFormatException.class, UnsupportedFormatException.class);
            return new Outcome(null, e.getClass());
        }
    }

    /** @return every safetensors fixture the real library wrote. */
    static Stream<Arguments> seeds() throws IOException {
        final List<byte[]> seeds = new ArrayList<>();
        try (Stream<Path> fixtures = Files.list(NpyHeaderTest.fixtures().resolve("safetensors"))) {
            fixtures.filter(path -> path.toString().endsWith(".safetensors")).sorted()
                .forEach(path -> seeds.add(readAll(path)));
        }
        assertTrue(!seeds.isEmpty(), "no safetensors fixtures found");
        return seeds.stream().map(seed -> Arguments.of((Object) seed));
    }

    private static byte[] readAll(final Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
