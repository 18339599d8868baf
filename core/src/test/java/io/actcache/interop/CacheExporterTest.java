package io.actcache.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.ExportTargetExistsException;
import io.actcache.InvalidKeyException;
import io.actcache.cache.ActivationCache;
import io.actcache.cache.Aggregation;
import io.actcache.format.NpyFile;
import io.actcache.format.SafetensorsFile;
import io.actcache.format.SafetensorsWriter;
import io.actcache.store.ActivationStore;
import io.actcache.store.DirectorySnapshot;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exporting stores to safetensors and NPY, sharded as Hugging Face shards, and importing the exports back. */
class CacheExporterTest {
    private static final StoreOptions OPTIONS = StoreOptions.builder().durability(Durability.PROCESS).build();

    @TempDir
    Path tmp;

    @Test
    void shouldRoundTripAStoreThroughSafetensors() {
        final Path store = store(tmp.resolve("store"));
        final Path out = tmp.resolve("out");
        final List<long[]> progress = new ArrayList<>();
        try (ActivationStore source = ActivationStore.openReadOnly(store)) {
            final ExportReport report = CacheExporter.export(source, out, ExportFormat.SAFETENSORS,
                ExportOptions.builder().progress((done, total) -> progress.add(new long[] {done, total})).build());
            assertEquals(List.of(Path.of("model.safetensors")), report.files());
            assertEquals(out.toAbsolutePath(), report.target());
            assertEquals(source.bytesStored(), report.bytes());
            try (ActivationStore copy = ActivationStore.create(tmp.resolve("copy"), OPTIONS);
                 ActivationCache cache = ActivationCache.over(copy)) {
                cache.registerAggregation("scale", Aggregation.first());
                CacheImporter.importFiles(cache, List.of(out.resolve("model.safetensors")), ImportOptions.defaults());
                assertEquals(source.keys(), copy.keys());
                for (final String key : source.keys()) {
                    assertTrue(source.get(key).contentEquals(copy.get(key)), key);
                }
                assertEquals(source.metadata(), copy.metadata());
            }
        }
        final long total = progress.get(0)[1];
        assertEquals(List.of(0L, total), List.of(progress.get(0)[0], progress.get(0)[1]));
        assertEquals(total, progress.get(progress.size() - 1)[0]);
    }

    @Test
    void shouldShardAsHuggingFaceNamesShardsWithAnIndex() throws IOException {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            for (int k = 0; k < 5; k++) {
                store.append("blocks." + k + ".hook_resid_post", TestData.random(DType.F32, Shape.of(25, 10), k));
            }
            store.append("embed", TestData.random(DType.F32, Shape.of(100, 30), 9));
        }
        final Path out = tmp.resolve("sharded");
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final ExportReport report = CacheExporter.export(store, out, ExportFormat.SAFETENSORS,
                ExportOptions.builder().shardSize(2500).build());
            final List<Path> shards = List.of(Path.of("model-00001-of-00004.safetensors"),
                Path.of("model-00002-of-00004.safetensors"), Path.of("model-00003-of-00004.safetensors"),
                Path.of("model-00004-of-00004.safetensors"));
            final List<Path> expected = new ArrayList<>(shards);
            expected.add(Path.of("model.safetensors.index.json"));
            assertEquals(expected, report.files());
            assertEquals(expected.size(), listing(out).size());
            final JsonNode index = new ObjectMapper().readTree(out.resolve("model.safetensors.index.json").toFile());
            assertEquals(store.bytesStored(), index.get("metadata").get("total_size").asLong());
            final JsonNode weights = index.get("weight_map");
            assertEquals(store.size(), weights.size());
            // Keys in order fill shards of 2500 bytes: two 1000-byte keys a shard; the 12000-byte key alone.
            assertEquals("model-00001-of-00004.safetensors", weights.get("blocks.0.hook_resid_post").asText());
            assertEquals("model-00001-of-00004.safetensors", weights.get("blocks.1.hook_resid_post").asText());
            assertEquals("model-00002-of-00004.safetensors", weights.get("blocks.2.hook_resid_post").asText());
            assertEquals("model-00003-of-00004.safetensors", weights.get("blocks.4.hook_resid_post").asText());
            assertEquals("model-00004-of-00004.safetensors", weights.get("embed").asText());
            for (final String key : store.keys()) {
                try (SafetensorsFile shard = SafetensorsFile.open(out.resolve(weights.get(key).asText()))) {
                    assertTrue(shard.tensor(key).contentEquals(store.get(key)), key);
                }
            }
        }
    }

    @Test
    void shouldRoundTripAStoreThroughNpyFilesListsAndAwkwardKeysIncluded() throws IOException {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("a/b c", TestData.random(DType.BF16, Shape.of(3, 4), 1));
            store.append("..", TestData.random(DType.I64, Shape.of(2), 2));
            store.put("scale", TestData.random(DType.F64, Shape.of(), 3));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.appendToList("pattern_L0H0", TestData.random(DType.F32, Shape.of(1, 5, 5), 4).view());
                batch.appendToList("pattern_L0H0", TestData.random(DType.F32, Shape.of(1, 7, 7), 5).view());
                batch.putMetadata("n_layers", "12");
                batch.commit();
            }
        }
        final Path out = tmp.resolve("npy");
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final ExportReport report = CacheExporter.export(store, out, ExportFormat.NPY, ExportOptions.defaults());
            assertEquals(5, report.tensors());
            assertEquals(List.of(Path.of("%2E..npy"), Path.of("a%2Fb%20c.npy"), Path.of("actcache-export.json"),
                Path.of("pattern_L0H0.list"), Path.of("scale.npy")), listing(out));
            try (NpyFile file = NpyFile.open(out.resolve("pattern_L0H0.list/1.npy"))) {
                assertTrue(file.tensor().contentEquals(store.getList("pattern_L0H0").get(1)));
            }
            try (ActivationStore copy = ActivationStore.create(tmp.resolve("copy"), OPTIONS);
                 ActivationCache cache = ActivationCache.over(copy)) {
                cache.registerAggregation("scale", Aggregation.first());
                CacheImporter.importFiles(cache, List.of(out), ImportOptions.defaults());
                assertEquals(store.keys(), copy.keys());
                assertEquals(Map.of("n_layers", "12"), copy.metadata());
                for (final String key : List.of("a/b c", "..", "scale")) {
                    assertTrue(store.get(key).contentEquals(copy.get(key)), key);
                    assertEquals(store.describe(key).dtype(), copy.describe(key).dtype(), key);
                }
                final List<TensorView> items = copy.getList("pattern_L0H0");
                assertEquals(2, items.size());
                for (int i = 0; i < 2; i++) {
                    assertTrue(store.getList("pattern_L0H0").get(i).contentEquals(items.get(i)), "item " + i);
                }
            }
        }
    }

    @Test
    void shouldExportOnlyTheKeysThePatternMatchesAndListItemsAsNumberedTensors() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("resid_out_0", TestData.random(DType.F32, Shape.of(2, 3), 1));
            store.append("resid_out_1", TestData.random(DType.F32, Shape.of(2, 3), 2));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.appendToList("pattern_L0H0", TestData.random(DType.F16, Shape.of(2, 2), 3).view());
                batch.appendToList("pattern_L0H0", TestData.random(DType.F16, Shape.of(3, 3), 4).view());
                batch.commit();
            }
        }
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final ExportReport report = CacheExporter.export(store, tmp.resolve("subset"), ExportFormat.SAFETENSORS,
                ExportOptions.builder().keys(Pattern.compile("resid_out_1|pattern_.*")).build());
            assertEquals(List.of("pattern_L0H0", "resid_out_1"), report.keys());
            try (SafetensorsFile file = SafetensorsFile.open(tmp.resolve("subset/model.safetensors"))) {
                assertEquals(List.of("resid_out_1", "pattern_L0H0[0]", "pattern_L0H0[1]"), file.names());
                assertTrue(file.tensor("pattern_L0H0[1]").contentEquals(store.getList("pattern_L0H0").get(1)));
            }
        }
    }

    @Test
    void shouldKeepDenseKeysNamedLikeListItemsDenseThroughSafetensors() throws IOException {
        // Exports record their list keys in __metadata__; before, an import folded any name[0] into a list.
        final ActivationCache source = ActivationCache.onHeap();
        source.put("h[0]", TestData.random(DType.F32, Shape.of(2, 3), 1));
        source.put("other", TestData.random(DType.F32, Shape.of(2), 2));
        source.putList("pattern_L0H0", List.of(TestData.random(DType.F16, Shape.of(2, 2), 3).view(),
            TestData.random(DType.F16, Shape.of(3, 3), 4).view()));
        source.putMetadata("model_name", "gpt2");
        final Path out = tmp.resolve("out");
        CacheExporter.export(source, out, ExportFormat.SAFETENSORS, ExportOptions.defaults());
        try (SafetensorsFile file = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertEquals("[\"pattern_L0H0\"]", file.metadata().get(ListKeysMetadata.NAME));
        }
        final ActivationCache copy = ActivationCache.onHeap();
        CacheImporter.importFiles(copy, List.of(out.resolve("model.safetensors")), ImportOptions.defaults());
        assertEquals(Set.copyOf(source.keys()), Set.copyOf(copy.keys()));
        assertTrue(copy.get("h[0]").contentEquals(source.get("h[0]")), "h[0] stays a dense key");
        assertEquals(2, copy.getList("pattern_L0H0").size());
        assertTrue(copy.getList("pattern_L0H0").get(1).contentEquals(source.getList("pattern_L0H0").get(1)));
        assertEquals(Map.of("model_name", "gpt2"), copy.metadata(), "the list-key entry is not user metadata");
        source.putMetadata(ListKeysMetadata.NAME, "[]");
        final InvalidKeyException reserved = assertThrows(InvalidKeyException.class,
            () -> CacheExporter.export(source, tmp.resolve("reserved"), ExportFormat.SAFETENSORS,
                ExportOptions.defaults()));
        assertTrue(reserved.getMessage().contains(ListKeysMetadata.NAME), reserved.getMessage());
    }

    @Test
    void shouldRefuseDeclaredListsWithGapsAndAMalformedDeclarationNamingTheFile() throws IOException {
        final TensorView item = TestData.random(DType.F32, Shape.of(2), 1).view();
        final Path gap = writeSafetensors("gap.safetensors", Map.of(ListKeysMetadata.NAME, "[\"x\"]"),
            List.of(new SafetensorsWriter.NamedView("x[0]", item), new SafetensorsWriter.NamedView("x[2]", item)));
        final io.actcache.BadFileFormatException gapped = assertThrows(io.actcache.BadFileFormatException.class,
            () -> CacheImporter.importFiles(ActivationCache.onHeap(), List.of(gap), ImportOptions.defaults()));
        assertTrue(gapped.getMessage().contains(gap.toString()) && gapped.getMessage().contains("'x[2]'"),
            gapped.getMessage());
        final Path malformed = writeSafetensors("malformed.safetensors", Map.of(ListKeysMetadata.NAME, "x"),
            List.of(new SafetensorsWriter.NamedView("x[0]", item)));
        final io.actcache.BadFileFormatException bad = assertThrows(io.actcache.BadFileFormatException.class,
            () -> CacheImporter.importFiles(ActivationCache.onHeap(), List.of(malformed), ImportOptions.defaults()));
        assertTrue(bad.getMessage().contains(malformed.toString()) && bad.getMessage().contains(ListKeysMetadata.NAME),
            bad.getMessage());
    }

    private Path writeSafetensors(final String name, final Map<String, String> metadata,
        final List<SafetensorsWriter.NamedView> tensors) throws IOException {
        final Path file = tmp.resolve(name);
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
            java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            SafetensorsWriter.write(channel, metadata, tensors, done -> { });
        }
        return file;
    }

    @Test
    void shouldRefuseNamesThatCollideOrAreReservedWritingNothing() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("x[0]", TestData.random(DType.F32, Shape.of(1), 1));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.appendToList("x", TestData.random(DType.F32, Shape.of(1), 2).view()).commit();
            }
            store.append("__metadata__", TestData.random(DType.F32, Shape.of(1), 3));
        }
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final Path out = tmp.resolve("out");
            final InvalidKeyException collision = assertThrows(InvalidKeyException.class, () -> CacheExporter.export(
                store, out, ExportFormat.SAFETENSORS, ExportOptions.builder().keys(Pattern.compile("x.*")).build()));
            assertTrue(collision.getMessage().contains("item 0 of list key 'x'"), collision.getMessage());
            final InvalidKeyException reserved = assertThrows(InvalidKeyException.class,
                () -> CacheExporter.export(store, out, ExportFormat.SAFETENSORS, ExportOptions.defaults()));
            assertTrue(reserved.getMessage().contains("'__metadata__'"), reserved.getMessage());
            assertFalse(Files.exists(out));
            assertEquals(List.of(Path.of("store")), listing(tmp), "no staging directory left behind");
        }
    }

    @Test
    void shouldRefuseAnExistingTargetUnlessForcedAndNeverReplaceForeignFiles() throws IOException {
        final Path store = store(tmp.resolve("store"));
        final Path out = Files.createDirectory(tmp.resolve("out"));
        Files.writeString(out.resolve("old.json"), "{}");
        try (ActivationStore source = ActivationStore.openReadOnly(store)) {
            final String before = DirectorySnapshot.of(out);
            final ExportTargetExistsException exists = assertThrows(ExportTargetExistsException.class,
                () -> CacheExporter.export(source, out, ExportFormat.NPY, ExportOptions.defaults()));
            assertTrue(exists.getMessage().startsWith(out + " already exists"), exists.getMessage());
            assertEquals(before, DirectorySnapshot.of(out));
            CacheExporter.export(source, out, ExportFormat.NPY, ExportOptions.builder().force(true).build());
            assertFalse(Files.exists(out.resolve("old.json")), "replaced, not merged into");
            assertTrue(Files.exists(out.resolve("actcache-export.json")));
            CacheExporter.export(source, out, ExportFormat.SAFETENSORS, ExportOptions.builder().force(true).build());
            assertEquals(List.of(Path.of("model.safetensors")), listing(out));

            Files.writeString(out.resolve("notes.txt"), "mine");
            final String withNotes = DirectorySnapshot.of(out);
            final ExportTargetExistsException foreign = assertThrows(ExportTargetExistsException.class,
                () -> CacheExporter.export(source, out, ExportFormat.NPY, ExportOptions.builder().force(true).build()));
            assertTrue(foreign.getMessage().contains("notes.txt") && foreign.getMessage().contains("no export writes"),
                foreign.getMessage());
            assertEquals(withNotes, DirectorySnapshot.of(out));
            final IllegalArgumentException inside = assertThrows(IllegalArgumentException.class,
                () -> CacheExporter.export(source, store.resolve("export"), ExportFormat.NPY, ExportOptions.defaults()));
            assertTrue(inside.getMessage().contains("inside the store"), inside.getMessage());
        }
        assertEquals(List.of(Path.of("out"), Path.of("store")), listing(tmp), "no staging directory left behind");
    }

    /** A store with keys of several dtypes, a scalar, an empty tensor and metadata. */
    private static Path store(final Path dir) {
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("blocks.0.hook_resid_post", TestData.random(DType.F32, Shape.of(4, 8, 16), 1));
            store.append("blocks.0.attn.hook_z", TestData.random(DType.BF16, Shape.of(4, 8, 2, 5), 2));
            store.append("blocks.0.hook_mlp_out", TestData.random(DType.F16, Shape.of(4, 8, 16), 3));
            store.append("mask", TestData.random(DType.BOOL, Shape.of(4, 8), 4));
            store.append("tokens", TestData.random(DType.I64, Shape.of(4, 8), 5));
            store.append("hook_small", TestData.random(DType.I8, Shape.of(3), 6));
            store.append("empty", TestData.random(DType.F32, Shape.of(0, 768), 7));
            store.put("scale", TestData.random(DType.F64, Shape.of(), 8));
            store.putMetadata(Map.of("model_name", "gpt2", "n_layers", "1"));
        }
        return dir;
    }

    private static List<Path> listing(final Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(Path::getFileName).sorted().toList();
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
