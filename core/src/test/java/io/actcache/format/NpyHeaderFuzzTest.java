package io.actcache.format;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.StoreIOException;
import io.actcache.UnsupportedFormatException;
import io.actcache.store.ActivationStore;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.testing.FuzzChecks;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * Fuzzes {@link NpyHeader#parse(ByteBuffer, String)} on a buffer and {@link NpyHeader#read(FileChannel, String)}
 * on a real file of the same bytes. Without {@code JAZZER_FUZZ} it runs once per seed (a store's column file,
 * compact headers from the store's encoder, the numpy-written fixtures) and on the empty input; the pom's fuzzing
 * execution mutates them for a bounded time.
 *
 * <p>Allowed outcomes: a header, or {@link CorruptFileException}, {@link FormatTooNewException},
 * {@link UnsupportedFormatException}, {@link StoreIOException}. Both entry points must agree: the same header,
 * or the same exception type. A header that parses lies within the input.
 */
class NpyHeaderFuzzTest {
    @TempDir
    static Path tmp;
    private static long executions;

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void parseAndReadNeverFailUndocumented(final byte[] input) throws IOException {
        executions++;
        final Path file = tmp.resolve("fuzz.npy");
        FuzzChecks.overwrite(file, input);
        final Outcome parsed = FuzzChecks.withinAllocation(input.length, "NpyHeader.parse",
            () -> outcome(() -> NpyHeader.parse(ByteBuffer.wrap(input), "fuzz.npy")));
        final Outcome read;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            read = FuzzChecks.withinAllocation(input.length, "NpyHeader.read",
                () -> outcome(() -> NpyHeader.read(channel, "fuzz.npy")));
        }
        assertEquals(parsed.describe(), read.describe(), "parse of the bytes and read of the file must agree");
        if (parsed.header() != null) {
            final long dataOffset = parsed.header().dataOffset();
            assertTrue(dataOffset >= NpyHeader.V1_TEXT_OFFSET && dataOffset <= input.length,
                "data offset " + dataOffset + " must lie within the " + input.length + "-byte input");
        }
    }

    @AfterAll
    static void ranEnough() {
        FuzzChecks.checkMinimumExecutions(executions, "NpyHeaderFuzzTest");
    }

    /**
     * A parse's result: the header, or the type of the documented exception it threw.
     *
     * @param header  the header, or null.
     * @param failure the exception type, or null.
     */
    private record Outcome(NpyHeader header, Class<?> failure) {
        String describe() {
            return header != null ? header.toString() : failure.getName();
        }
    }

    private static Outcome outcome(final Supplier<NpyHeader> parser) {
        try {
            return new Outcome(parser.get(), null);
        } catch (final RuntimeException e) {
            FuzzChecks.checkDocumented(e, CorruptFileException.class, FormatTooNewException.class,
                UnsupportedFormatException.class, StoreIOException.class);
            return new Outcome(null, e.getClass());
        }
    }

    /** @return a store's real column file, compact headers of several dtypes and ranks, and numpy's fixtures. */
    static Stream<Arguments> seeds() throws IOException {
        final List<byte[]> seeds = new ArrayList<>();
        final Path dir = Files.createTempDirectory(tmp, "seed-store");
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults())) {
            store.append("resid_out_0", TestData.random(DType.F32, Shape.of(2, 3), 1));
            seeds.add(Files.readAllBytes(store.columnFile("resid_out_0")));
        }
        seeds.add(NpyHeader.encodePadded(DType.BF16, Shape.of(7), 128).array());
        seeds.add(NpyHeader.encodePadded(DType.BOOL, Shape.of(), 128).array());
        seeds.add(NpyHeader.encodePadded(DType.I64, Shape.of(1, 2, 3, 4, 5, 6, 7, 8), 192).array());
        final byte[] v2 = NpyHeader.encodePadded(DType.F16, Shape.of(3, 0), 128).array();
        seeds.add(toVersion2(v2));
        try (Stream<Path> fixtures = Files.list(NpyHeaderTest.fixtures().resolve("npy"))) {
            fixtures.sorted().forEach(path -> seeds.add(readAll(path)));
        }
        return seeds.stream().map(seed -> Arguments.of((Object) seed));
    }

    /** Rewrites a v1.0 header as v2.0 (u32 HEADER_LEN, text two bytes later), as numpy writes large headers. */
    private static byte[] toVersion2(final byte[] v1) {
        final int textLength = v1.length - NpyHeader.V1_TEXT_OFFSET;
        final ByteBuffer out = ByteBuffer.allocate(NpyHeader.V2_TEXT_OFFSET + textLength)
            .order(ByteOrder.LITTLE_ENDIAN);
        out.put(v1, 0, NpyHeader.HEADER_LENGTH_OFFSET).putInt(textLength)
            .put(v1, NpyHeader.V1_TEXT_OFFSET, textLength);
        out.put(NpyHeader.MAJOR_VERSION_OFFSET, (byte) 2);
        return out.array();
    }

    private static byte[] readAll(final Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
