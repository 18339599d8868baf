package io.actcache.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.codec.Codec;
import io.actcache.store.ActivationStore;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code actcache compact DIR --codec ... [--keys REGEX]} and the codec columns of {@code actcache info} on real
 * stores: the selected columns change codec, keep their values, and info reports codec, stored bytes and ratio.
 */
class CompactCodecCommandTest {
    @TempDir
    Path tmp;

    @Test
    void shouldRewriteTheSelectedKeysIntoACodecAndShowItInInfo() throws IOException {
        final Path dir = store();
        final CliRun run = execute("compact", dir.toString(), "--codec", "SHUFFLE_LZ4", "--keys", "pattern_.*",
            "--json");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertEquals(2, new ObjectMapper().readTree(run.out()).get("columnsRewritten").asInt());

        final JsonNode columns = new ObjectMapper().readTree(execute("info", dir.toString(), "--json").out())
            .get("columns");
        assertEquals("SHUFFLE_LZ4", columns.get("pattern_0").get("codec").asText());
        assertEquals("RAW", columns.get("resid").get("codec").asText());
        final JsonNode pattern = columns.get("pattern_0");
        assertTrue(pattern.get("storedBytes").asLong() < pattern.get("bytes").asLong(), pattern.toString());
        assertEquals((double) pattern.get("bytes").asLong() / pattern.get("storedBytes").asLong(),
            pattern.get("ratio").asDouble(), 1e-9);
        assertTrue(pattern.get("ratio").asDouble() > 1.8, pattern.toString());
        assertTrue(pattern.get("file").asText().endsWith(".blk"), pattern.toString());
        assertEquals(1.0, columns.get("resid").get("ratio").asDouble());

        final CliRun table = execute("info", dir.toString());
        assertTrue(table.out().lines().anyMatch(line -> line.matches("pattern_1 +DENSE +F32 +SHUFFLE_LZ4 .*")),
            table.out());
        assertValuesKept(dir);
    }

    @Test
    void shouldRewriteEveryKeyBackToRawWithoutKeys() throws IOException {
        final Path dir = store();
        assertEquals(ExitCodes.OK, execute("compact", dir.toString(), "--codec", "LZ4", "--quiet").code());
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            assertEquals(Codec.LZ4, store.describe("resid").codec());
        }
        final CliRun back = execute("compact", dir.toString(), "--codec", "RAW");
        assertEquals(ExitCodes.OK, back.code(), back.err());
        assertTrue(back.out().contains("\nrewritten   3 columns\n"), back.out());
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            assertEquals(Codec.RAW, store.describe("pattern_0").codec());
        }
        assertValuesKept(dir);
    }

    @Test
    void shouldRefuseAnUnknownCodecAndKeysWithoutACodecLeavingTheStoreAlone() {
        final Path dir = store();
        final CliRun unknown = execute("compact", dir.toString(), "--codec", "ZSTD");
        assertEquals(ExitCodes.USAGE, unknown.code());
        assertTrue(unknown.err().contains("ZSTD") && unknown.err().contains("SHUFFLE_LZ4"), unknown.err());
        final CliRun keysOnly = execute("compact", dir.toString(), "--keys", "pattern_.*");
        assertEquals(ExitCodes.USAGE, keysOnly.code());
        assertTrue(keysOnly.err().contains("--codec"), keysOnly.err());
        final CliRun badRegex = execute("compact", dir.toString(), "--codec", "LZ4", "--keys", "pattern_(");
        assertEquals(ExitCodes.USAGE, badRegex.code());
        assertTrue(badRegex.err().contains("pattern_("), badRegex.err());
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            assertEquals(Codec.RAW, store.describe("pattern_0").codec());
        }
    }

    /** Two causal attention patterns (upper triangle exact zeros) and a residual stream. */
    private Path store() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults())) {
            store.append("pattern_0", pattern(0));
            store.append("pattern_1", pattern(1));
            store.append("resid", resid());
        }
        return dir;
    }

    private static Tensor pattern(final int seed) {
        final int n = 64;
        final Tensor tensor = Tensor.allocate(DType.F32, Shape.of(4, n, n));
        final java.util.Random random = new java.util.Random(seed);
        for (int b = 0; b < 4; b++) {
            for (int q = 0; q < n; q++) {
                for (int k = 0; k <= q; k++) {
                    tensor.buffer().putFloat(4 * ((b * n + q) * n + k), random.nextFloat() / (q + 1));
                }
            }
        }
        return tensor;
    }

    private static Tensor resid() {
        final Tensor tensor = Tensor.allocate(DType.F32, Shape.of(8, 32));
        final java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < 8 * 32; i++) {
            tensor.buffer().putFloat(4 * i, (float) random.nextGaussian());
        }
        return tensor;
    }

    private void assertValuesKept(final Path dir) {
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            assertTrue(store.get("pattern_0").contentEquals(pattern(0).view()));
            assertTrue(store.get("pattern_1").contentEquals(pattern(1).view()));
            assertTrue(store.get("resid").contentEquals(resid().view()));
            store.verify();
        }
    }

    private static CliRun execute(final String... args) {
        return CliRun.execute(args);
    }
}
