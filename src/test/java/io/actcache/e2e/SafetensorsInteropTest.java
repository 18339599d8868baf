package io.actcache.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A new user's round trip through {@code bin/actcache}, with the real safetensors Python package on both ends:
 * Python writes batch files as a hook loop would, {@code create} and {@code import} merge the directory, a fresh
 * {@code info} process sees the merged store, {@code export} writes sharded safetensors, and Python reads the shards
 * and compares every value with the concatenation of its own batches ({@code src/test/python/safetensors_batches.py}).
 */
class SafetensorsInteropTest {
    private static final int BATCHES = 12;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void shouldImportBatchesPythonWroteAndExportShardsPythonReadsBack() throws IOException {
        final String python = Processes.pythonWithSafetensors().toString();
        final String script = Processes.home().resolve("src/test/python/safetensors_batches.py").toString();
        final Path batches = tmp.resolve("dumps");
        final Processes.Result write = Processes.run(List.of(python, script, "write", batches.toString(),
            String.valueOf(BATCHES)));
        assertEquals(0, write.code(), write.describe());

        final Path store = tmp.resolve("store");
        final Processes.Result create = Processes.actcache("create", store.toString());
        assertEquals(0, create.code(), create.describe());
        final Processes.Result imported = Processes.actcache("import", store.toString(), batches.toString(), "--json");
        assertEquals(0, imported.code(), imported.describe());
        final JsonNode report = JSON.readTree(imported.out());
        assertEquals(BATCHES, report.get("files").size());
        assertTrue(report.get("files").get(BATCHES - 1).asText().endsWith("batch_11.safetensors"),
            "natural order: batch_11 last");

        final JsonNode info = JSON.readTree(Processes.actcache("info", store.toString(), "--json").out());
        assertEquals(7, info.get("keyCount").asInt(), "6 activation keys and input_ids");
        assertEquals("[24,5,8]", info.get("columns").get("blocks.2.hook_resid_post").get("shape").toString());
        assertEquals("LIST", info.get("columns").get("input_ids").get("kind").asText());
        assertEquals("gpt2-tiny", info.get("metadata").get("model").asText());

        final Path export = tmp.resolve("export");
        final Processes.Result exported = Processes.actcache("export", store.toString(), export.toString(),
            "--format", "safetensors", "--shard-size", "4KB");
        assertEquals(0, exported.code(), exported.describe());
        assertTrue(Files.exists(export.resolve("model.safetensors.index.json")), "4 KB shards: several of them");
        final Processes.Result check = Processes.run(List.of(python, script, "check", export.toString(),
            String.valueOf(BATCHES)));
        assertEquals(0, check.code(), check.describe());
        assertEquals("OK", check.out().strip(), check.describe());

        final Processes.Result again = Processes.actcache("export", store.toString(), export.toString(),
            "--format", "safetensors");
        assertEquals(1, again.code(), again.describe());
        assertTrue(again.firstErrLine().startsWith("actcache: ") && again.firstErrLine().contains(export.toString()),
            again.describe());
    }
}
