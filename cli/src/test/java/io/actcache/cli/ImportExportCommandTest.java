package io.actcache.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static io.actcache.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code actcache export} and {@code import} through real files: round trips, shards, and bad input. */
class ImportExportCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LAYERS = 3;
    /** One layer of one batch: F32 [2, 64], 512 bytes. */
    private static final Shape LAYER_SHAPE = Shape.of(2, 64);

    @TempDir
    Path tmp;

    @Test
    void shouldExportShardsAndImportThemBackValueForValue() throws IOException {
        final Path source = store(tmp.resolve("source"), 0);
        final Path out = tmp.resolve("export");
        final CliRun export = execute("export", source.toString(), out.toString(), "--format", "safetensors",
            "--shard-size", "1KB", "--json");
        assertEquals(ExitCodes.OK, export.code(), export.err());
        final JsonNode report = JSON.readTree(export.out());
        assertEquals(LAYERS + 1, report.get("keys").asInt());
        final JsonNode index = JSON.readTree(out.resolve("model.safetensors.index.json").toFile());
        final int shards = LAYERS; // 512-byte layers, 1,000-byte shards: one layer each, input_ids beside one
        assertEquals("model-00001-of-0000" + shards + ".safetensors",
            index.get("weight_map").get("blocks.0.hook_resid_post").asText());
        assertEquals(LAYERS * 512 + 2 * 16, index.get("metadata").get("total_size").asLong());
        assertTrue(index.get("weight_map").has("input_ids[1]"), index.toString());

        final Path copy = tmp.resolve("copy");
        assertEquals(ExitCodes.OK, execute("create", copy.toString(), "--durability", "process").code());
        final CliRun imported = execute("import", copy.toString(), out.toString(), "--json");
        assertEquals(ExitCodes.OK, imported.code(), imported.err());
        try (ActivationStore original = ActivationStore.openReadOnly(source);
             ActivationStore restored = ActivationStore.openReadOnly(copy)) {
            for (int layer = 0; layer < LAYERS; layer++) {
                final String key = "blocks." + layer + ".hook_resid_post";
                assertTrue(original.get(key).contentEquals(restored.get(key)), key);
            }
            assertEquals("gpt2", restored.metadata().get("model"));
            assertEquals(2, restored.getList("input_ids").size(), "input_ids[0], input_ids[1] fold back into a list");
            assertTrue(original.getList("input_ids").get(1).contentEquals(restored.getList("input_ids").get(1)));
        }
        final Path indexFile = out.resolve("model.safetensors.index.json");
        Files.writeString(indexFile, Files.readString(indexFile).replace("model-00003-of-00003", "model-00009-of-00003"));
        final Map<String, Integer> before = CliRun.snapshot(copy);
        final CliRun badIndex = execute("import", copy.toString(), out.toString());
        assertEquals(ExitCodes.USAGE, badIndex.code(), badIndex.err());
        assertTrue(badIndex.firstErrLine().contains(indexFile.toString())
            && badIndex.firstErrLine().contains("model-00009-of-00003"), badIndex.err());
        assertEquals(before, CliRun.snapshot(copy));
    }

    @Test
    void shouldMergeADirectoryOfBatchFilesInNaturalOrderAndExportNpy() throws IOException {
        final Path batches = Files.createDirectories(tmp.resolve("batches"));
        for (final int batch : new int[] {0, 1, 2, 10}) {
            final Path single = store(tmp.resolve("b" + batch), batch);
            final Path exported = tmp.resolve("e" + batch);
            assertEquals(ExitCodes.OK, execute("export", single.toString(), exported.toString(), "--format",
                "safetensors", "--quiet").code());
            Files.move(exported.resolve("model.safetensors"), batches.resolve("batch_" + batch + ".safetensors"));
        }
        final Path merged = tmp.resolve("merged");
        execute("create", merged.toString());
        final CliRun run = execute("import", merged.toString(), batches.toString(), "--keys",
            "blocks\\.[01]\\..*|input_ids");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().startsWith("imported 4 batches, "), run.out());
        try (ActivationStore store = ActivationStore.openReadOnly(merged)) {
            assertEquals(List.of("blocks.0.hook_resid_post", "blocks.1.hook_resid_post", "input_ids"), store.keys());
            assertEquals(Shape.of(8, 64), store.get("blocks.1.hook_resid_post").shape());
            assertEquals(value(1, 10, 0, 0), store.get("blocks.1.hook_resid_post").getFloat(6 * 64),
                "batch_10 comes last, after batch_2");
            assertEquals(8, store.getList("input_ids").size(), "two items per batch, kept as a list");
        }
        final Path npy = tmp.resolve("npy");
        final CliRun export = execute("export", merged.toString(), npy.toString(), "--format", "npy");
        assertEquals(ExitCodes.OK, export.code(), export.err());
        assertTrue(Files.isRegularFile(npy.resolve("blocks.0.hook_resid_post.npy")));
        assertTrue(Files.isRegularFile(npy.resolve("input_ids.list/7.npy")));
        assertTrue(Files.isRegularFile(npy.resolve("actcache-export.json")));
    }

    @Test
    void shouldRefuseAnExistingTargetUnlessForced() throws IOException {
        final Path source = store(tmp.resolve("source"), 0);
        final Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("old.json"), "{}");
        final CliRun refused = execute("export", source.toString(), out.toString(), "--format", "npy");
        assertEquals(ExitCodes.USAGE, refused.code(), refused.err());
        assertTrue(refused.firstErrLine().contains(out.toString()), refused.err());
        assertTrue(Files.exists(out.resolve("old.json")), "left alone");
        final CliRun forced = execute("export", source.toString(), out.toString(), "--format", "npy", "--force");
        assertEquals(ExitCodes.OK, forced.code(), forced.err());
        assertFalse(Files.exists(out.resolve("old.json")), "replaced");
        assertEquals(ExitCodes.USAGE, execute("export", source.toString(), tmp.resolve("x").toString(),
            "--format", "npy", "--shard-size", "lots").code());
        assertEquals(ExitCodes.USAGE, execute("export", source.toString(), tmp.resolve("y").toString(),
            "--format", "pickle").code());
    }

    @Test
    void shouldNameTheBadFileAndLeaveTheStoreUnchanged() throws IOException {
        final Path source = store(tmp.resolve("source"), 0);
        final Path out = tmp.resolve("export");
        execute("export", source.toString(), out.toString(), "--format", "safetensors", "--quiet");
        final Path good = out.resolve("model.safetensors");
        final Path truncated = tmp.resolve("batch_1.safetensors");
        Files.copy(good, truncated);
        try (FileChannel channel = FileChannel.open(truncated, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 1);
        }
        final Path target = store(tmp.resolve("target"), 5);
        final Map<String, Integer> before = CliRun.snapshot(target);
        final CliRun run = execute("import", target.toString(), good.toString(), truncated.toString());
        assertEquals(ExitCodes.USAGE, run.code(), run.err());
        assertTrue(run.firstErrLine().contains(truncated.toString()), run.err());
        if (!CliRun.DEBUG_ENV) {
            assertEquals(1, run.err().lines().count(), run.err());
        }
        assertEquals(before, CliRun.snapshot(target));

        final Path missing = tmp.resolve("batch_9.safetensors");
        final CliRun absent = execute("import", target.toString(), good.toString(), missing.toString());
        assertEquals(ExitCodes.USAGE, absent.code());
        assertTrue(absent.firstErrLine().contains(missing.toString()), absent.err());
        assertEquals(before, CliRun.snapshot(target));
        // Malformed inputs whose parsers fail underneath with a JSON error (an IOException) or an NPY header error (a
        // CorruptFileException) are still bad input, exit 1: not a damaged store (2) or a disk error (3).
        final Path badJson = Files.write(tmp.resolve("bad_json.safetensors"),
            new byte[] {5, 0, 0, 0, 0, 0, 0, 0, '{', 'b', 'a', 'd', ' '});
        final Path badMagic = Files.write(tmp.resolve("bad_magic.npy"), "NOT AN NPY FILE AT ALL".getBytes());
        for (final Path bad : List.of(badJson, badMagic)) {
            final CliRun malformed = execute("import", target.toString(), bad.toString());
            assertEquals(ExitCodes.USAGE, malformed.code(), malformed.err());
            assertTrue(malformed.firstErrLine().contains(bad.toString()), malformed.err());
        }
        assertEquals(before, CliRun.snapshot(target));
        assertThrows(IllegalArgumentException.class, () -> Bytes.parse("-1GB"));
        assertEquals(2_000_000_000L, Bytes.parse("2GB"));
        assertEquals(3L << 29, Bytes.parse("1.5 GiB"));
    }

    /** A store of LAYERS F32 [2, 64] keys valued by batch, and input_ids as a list of two I64 [2] items. */
    private static Path store(final Path dir, final int batch) {
        try (ActivationStore store = ActivationStore.create(dir,
            StoreOptions.builder().durability(Durability.PROCESS).build())) {
            final ActivationStore.Batch commit = store.batch();
            for (int layer = 0; layer < LAYERS; layer++) {
                final Tensor tensor = Tensor.allocate(DType.F32, LAYER_SHAPE);
                for (int i = 0; i < LAYER_SHAPE.elementCount(); i++) {
                    tensor.setFloat(i, value(layer, batch, i / 64, i % 64));
                }
                commit.append("blocks." + layer + ".hook_resid_post", tensor);
            }
            commit.appendToList("input_ids", Tensor.ofLongs(Shape.of(2), batch, 1).view());
            commit.appendToList("input_ids", Tensor.ofLongs(Shape.of(2), batch, 2).view());
            commit.putMetadata("model", "gpt2");
            commit.commit();
        }
        return dir;
    }

    private static float value(final int layer, final int batch, final int row, final int column) {
        return layer * 10_000 + batch * 100 + row * 0.5f + column * 0.001f;
    }
}
