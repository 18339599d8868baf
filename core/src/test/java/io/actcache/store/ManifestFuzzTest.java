package io.actcache.store;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.FormatTooOldException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.testing.FuzzChecks;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Fuzzes {@link Manifest#read(Path)} and {@link Manifest#readHeader(Path)} on real files. Without
 * {@code JAZZER_FUZZ} it runs once per seed (manifests written by a store) and on the empty input; the pom's
 * fuzzing execution mutates them for a bounded time.
 *
 * <p>The first input byte picks a mode; the rest is the file. Mode 0 writes it as is, which exercises the CRC32C
 * trailer check. Mode 1 first recomputes the trailer's CRC32C when the file ends with one, so mutations of the JSON
 * reach the parser instead of stopping at the checksum.
 *
 * <p>Allowed outcomes: a manifest, or {@link CorruptFileException}, {@link FormatTooNewException},
 * {@link FormatTooOldException}. A manifest that reads must have a header that reads the same, and must write and
 * read back equal.
 */
class ManifestFuzzTest {
    private static final byte MODE_AS_IS = 0;
    private static final byte MODE_REPAIR_CRC = 1;
    /** The 1.1 trailer, as {@code docs/FORMAT.md} describes it: {@code ,"crc32c" : "<8 hex digits>"} then the brace. */
    private static final byte[] TRAILER_PREFIX = ",\n  \"crc32c\" : \"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRAILER_SUFFIX = "\"\n}\n".getBytes(StandardCharsets.US_ASCII);
    private static final int CRC_DIGITS = 8;

    @TempDir
    static Path tmp;
    private static long executions;

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void readNeverFailsUndocumented(final byte[] input) {
        executions++;
        final byte[] json = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
        if (input.length > 0 && (input[0] & 1) == MODE_REPAIR_CRC) {
            repairCrc(json);
        }
        final Path file = tmp.resolve(StoreFiles.MANIFEST);
        FuzzChecks.overwrite(file, json);
        final Manifest manifest = FuzzChecks.withinAllocation(json.length, "Manifest.read", () -> read(file));
        final Manifest.Header header =
            FuzzChecks.withinAllocation(json.length, "Manifest.readHeader", () -> readHeader(file));
        if (manifest == null) {
            return;
        }
        assertNotNull(header, "the header of a manifest that reads must read");
        assertEquals(manifest.epoch(), header.epoch());
        assertEquals(manifest.nextColumnId(), header.nextColumnId());
        assertEquals(manifest.columns().size(), header.keyCount());
        assertEquals(manifest.metadata(), header.metadata());
        final Path copy = tmp.resolve("copy.json");
        manifest.write(copy, false);
        assertEquals(manifest, Manifest.read(copy), "a manifest must write and read back equal");
    }

    @AfterAll
    static void ranEnough() {
        FuzzChecks.checkMinimumExecutions(executions, "ManifestFuzzTest");
    }

    /** Rewrites the trailer's CRC32C to match the bytes before it, when the file ends with a trailer. */
    private static void repairCrc(final byte[] json) {
        final int body = json.length - TRAILER_PREFIX.length - CRC_DIGITS - TRAILER_SUFFIX.length;
        if (body < 0 || !Arrays.equals(json, body, body + TRAILER_PREFIX.length, TRAILER_PREFIX, 0,
            TRAILER_PREFIX.length) || !Arrays.equals(json, json.length - TRAILER_SUFFIX.length, json.length,
            TRAILER_SUFFIX, 0, TRAILER_SUFFIX.length)) {
            return;
        }
        final CRC32C crc = new CRC32C();
        crc.update(json, 0, body);
        final byte[] digits = String.format("%08x", crc.getValue()).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, json, body + TRAILER_PREFIX.length, CRC_DIGITS);
    }

    /** @return the manifest, or null when reading threw a documented exception. */
    private static Manifest read(final Path file) {
        try {
            return Manifest.read(file);
        } catch (final RuntimeException e) {
            FuzzChecks.checkDocumented(e, CorruptFileException.class, FormatTooNewException.class,
                FormatTooOldException.class);
            return null;
        }
    }

    /** @return the header, or null when reading threw a documented exception. */
    private static Manifest.Header readHeader(final Path file) {
        try {
            return Manifest.readHeader(file);
        } catch (final RuntimeException e) {
            FuzzChecks.checkDocumented(e, CorruptFileException.class, FormatTooNewException.class,
                FormatTooOldException.class);
            return null;
        }
    }

    /** @return real manifests in both modes: an empty store's, and one with DENSE and LIST columns and metadata. */
    static List<Arguments> seeds() throws IOException {
        final Path empty = Files.createTempDirectory(tmp, "empty-store");
        try (ActivationStore store = ActivationStore.create(empty, StoreOptions.defaults())) {
            store.putMetadata(Map.of("model_name", "gpt2"));
        }
        final Path full = Files.createTempDirectory(tmp, "full-store");
        try (ActivationStore store = ActivationStore.create(full, StoreOptions.defaults())) {
            store.append("resid_out_0", TestData.random(DType.F32, Shape.of(2, 3, 4), 1));
            store.put("blocks.0.hook_scale", TestData.random(DType.F16, Shape.of(), 2));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.put("input_ids", TestData.random(DType.I64, Shape.of(2, 5), 3));
                batch.appendToList("attn_pattern", TestData.random(DType.BF16, Shape.of(2, 2), 4).view());
                batch.appendToList("attn_pattern", TestData.random(DType.BF16, Shape.of(3, 3), 5).view());
                batch.putMetadata("n_layers", "12").putMetadata("note", "a value with ünïcode");
                batch.commit();
            }
        }
        final List<Arguments> seeds = new ArrayList<>();
        for (final Path store : List.of(empty, full)) {
            final byte[] manifest = Files.readAllBytes(store.resolve(StoreFiles.MANIFEST));
            for (final byte mode : new byte[] {MODE_AS_IS, MODE_REPAIR_CRC}) {
                final byte[] input = new byte[manifest.length + 1];
                input[0] = mode;
                System.arraycopy(manifest, 0, input, 1, manifest.length);
                seeds.add(Arguments.of((Object) input));
            }
        }
        return seeds;
    }
}
