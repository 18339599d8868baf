package io.actcache.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives {@code bin/actcache} as a new user would: the demo, {@code info} on its store, the numpy line it prints,
 * and the exit codes and one-line messages of bad input.
 */
class CliDemoTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void shouldWriteVerifyDescribeAndHandTheDemoStoreToNumpy() throws IOException {
        final Path store = tmp.resolve("demo");
        final Processes.Result demo =
            Processes.actcache("demo", "--dir", store.toString(), "--batches", "2", "--batch-size", "2", "--quiet");
        assertEquals(0, demo.code(), demo.describe());
        assertFalse(demo.err().toLowerCase(Locale.ROOT).contains("chronicle") || demo.err().contains("WARN"),
            "no banner or warning expected: " + demo.describe());
        assertTrue(demo.out().contains("verified: all 49 keys have the shapes written and all 2 batches read back"),
            demo.describe());
        // The closing checkpoint (it forces what the commits wrote) is timed apart from the commits.
        assertTrue(demo.out().lines().anyMatch(line -> line.matches(
            "close +checkpoint \\(forces the .+ the commits wrote to the device\\): [0-9.]+ s")), demo.describe());
        final Optional<String> pythonLine =
            demo.out().lines().filter(line -> line.startsWith("python3 -c ")).findFirst();
        assertTrue(pythonLine.isPresent(), demo.describe());

        final Processes.Result info = Processes.actcache("info", store.toString(), "--json");
        assertEquals(0, info.code(), info.describe());
        final JsonNode json = JSON.readTree(info.out());
        assertEquals(49, json.get("keyCount").asInt(), info.out());
        final JsonNode columns = json.get("columns");
        assertEquals(49, columns.size(), info.out());
        assertShape(columns, "input_ids", "I64", 4, 128);
        long bytes = 4 * 128 * 8;
        for (int layer = 0; layer < 12; layer++) {
            for (final String hook : List.of("hook_resid_post", "hook_attn_out", "hook_mlp_out")) {
                assertShape(columns, "blocks." + layer + "." + hook, "F32", 4, 128, 768);
                bytes += 4 * 128 * 768 * 4;
            }
            assertShape(columns, "blocks." + layer + ".attn.hook_pattern", "F32", 4, 12, 128, 128);
            bytes += 4 * 12 * 128 * 128 * 4;
        }
        assertEquals(bytes, json.get("bytesStored").asLong());
        assertTrue(json.get("bytesOnDisk").asLong() > bytes, info.out());
        assertEquals("PROCESS", json.get("durability").asText());

        final Processes.Result table = Processes.actcache("info", store.toString());
        assertEquals(0, table.code(), table.describe());
        assertTrue(table.out().contains("\nkeys        49\n"), table.describe());

        Processes.requireNumpy();
        final Processes.Result numpy = Processes.run(List.of("bash", "-c", pythonLine.get()));
        assertEquals(0, numpy.code(), numpy.describe());
        assertTrue(numpy.out().startsWith("(4, 128, 768) float32 "), numpy.describe());
    }

    @Test
    void shouldExitOneWithOneLineNamingAMissingStore() {
        final Processes.Result result = Processes.actcache("info", "/nonexistent");
        assertEquals(1, result.code(), result.describe());
        assertTrue(result.firstErrLine().startsWith("actcache: ") && result.firstErrLine().contains("/nonexistent"),
            result.describe());
        assertEquals(1, result.err().lines().count(), result.describe());
        assertEquals("", result.out(), result.describe());
    }

    @Test
    void shouldExitTwoForADamagedStore() throws IOException {
        Files.write(tmp.resolve("actcache.properties"), new byte[] {'\\', 'u', 'z', 'z', 0, (byte) 0xff, '=', '\n'});
        final Processes.Result result = Processes.actcache("info", tmp.toString());
        assertEquals(2, result.code(), result.describe());
        assertTrue(result.firstErrLine().startsWith("actcache: ") && result.firstErrLine().contains(tmp.toString()),
            result.describe());
    }

    @Test
    void shouldExitOneForAnUnknownCommand() {
        final Processes.Result result = Processes.actcache("nosuchcommand");
        assertEquals(1, result.code(), result.describe());
        assertTrue(result.firstErrLine().startsWith("actcache: ") && result.firstErrLine().contains("nosuchcommand"),
            result.describe());
    }

    private static void assertShape(final JsonNode columns, final String key, final String dtype,
        final long... dims) {
        final JsonNode column = columns.get(key);
        assertTrue(column != null, "no key " + key + " in " + columns.toString().substring(0, 200));
        assertEquals(dtype, column.get("dtype").asText(), key);
        final List<Long> shape = new ArrayList<>();
        column.get("shape").forEach(dim -> shape.add(dim.asLong()));
        final List<Long> expected = new ArrayList<>();
        for (final long dim : dims) {
            expected.add(dim);
        }
        assertEquals(expected, shape, key);
    }
}
