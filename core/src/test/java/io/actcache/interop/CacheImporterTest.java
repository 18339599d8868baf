package io.actcache.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.BadFileFormatException;
import io.actcache.InputNotFoundException;
import io.actcache.InvalidKeyException;
import io.actcache.KeyNotFoundException;
import io.actcache.KeySetMismatchException;
import io.actcache.ShapeMismatchException;
import io.actcache.UnsupportedFormatException;
import io.actcache.cache.ActivationCache;
import io.actcache.format.SafetensorsFile;
import io.actcache.format.SafetensorsWriter;
import io.actcache.format.SafetensorsWriter.NamedView;
import io.actcache.store.ActivationStore;
import io.actcache.store.ColumnKind;
import io.actcache.store.DirectorySnapshot;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;
import io.actcache.testing.CraftedFiles;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Importing the real library's batch files into a store, and every bad input refused with the file named and the
 * store left byte-for-byte as it was, even when the bad file comes after good ones.
 */
class CacheImporterTest {
    private static final StoreOptions OPTIONS = StoreOptions.builder().durability(Durability.PROCESS).build();

    @TempDir
    Path tmp;
    private Path batch0;
    private Path batch1;
    private JsonNode manifest;

    @BeforeEach
    void fixtures() throws IOException {
        batch0 = CraftedFiles.fixtures().resolve("safetensors/batch_0.safetensors");
        batch1 = CraftedFiles.fixtures().resolve("safetensors/batch_1.safetensors");
        manifest = new ObjectMapper().readTree(CraftedFiles.fixtures().resolve("manifest.json").toFile())
            .get("safetensors");
    }

    @Test
    void shouldMergeADirectoryOfBatchFilesInNaturalOrderAsOneCommit() throws IOException {
        final Path dumps = Files.createDirectory(tmp.resolve("dumps"));
        Files.copy(batch0, dumps.resolve("batch_2.safetensors"));
        Files.copy(batch1, dumps.resolve("batch_10.safetensors"));
        Files.writeString(dumps.resolve("notes.txt"), "not an input");
        final List<long[]> progress = new ArrayList<>();
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), OPTIONS);
             ActivationCache cache = ActivationCache.over(store)) {
            final long epoch = store.epoch();
            final ImportReport report = CacheImporter.importFiles(cache, List.of(dumps), ImportOptions.builder()
                .progress((done, total) -> progress.add(new long[] {done, total})).build());
            assertEquals(List.of(dumps.resolve("batch_2.safetensors"), dumps.resolve("batch_10.safetensors")),
                report.files());
            assertEquals(epoch + 2, store.epoch(), "one commit for the tensors, one for the metadata");
            assertEquals(Map.of("batch", "0"), store.metadata(), "the first file's metadata wins");
            assertEquals(10, report.tensors());
            assertEquals(2 * 26880L, report.bytes());
            final TensorView resid = store.get("resid_out_1");
            assertEquals(Shape.of(4, 16, 64), resid.shape());
            assertEquals(sha("batch_0.safetensors", "resid_out_1"), CraftedFiles.sha256(resid.rows(0, 2)));
            assertEquals(sha("batch_1.safetensors", "resid_out_1"), CraftedFiles.sha256(resid.rows(2, 4)));
            // The default registry keeps input_ids and pattern_ as lists, one item per batch.
            assertEquals(ColumnKind.LIST, store.describe("input_ids").kind());
            final List<TensorView> ids = store.getList("input_ids");
            assertEquals(sha("batch_0.safetensors", "input_ids"), CraftedFiles.sha256(ids.get(0)));
            assertEquals(sha("batch_1.safetensors", "input_ids"), CraftedFiles.sha256(ids.get(1)));
        }
        assertEquals(List.of(0L, 2 * 26880L), List.of(progress.get(0)[0], progress.get(0)[1]));
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i)[0] >= progress.get(i - 1)[0], "progress never goes back");
        }
        assertEquals(2 * 26880L, progress.get(progress.size() - 1)[0]);
        assertTrue(progress.size() > 10, "reported as tensors are read: " + progress.size());
    }

    @Test
    void shouldBoundTheMappingsOfAllInputFilesTogether() throws IOException {
        // Each input file kept up to 4 chunks mapped until the commit, so about 16,000 batch files exhausted the
        // kernel's map count (vm.max_map_count, 65,530). Now the files of one import share MappingBudget.defaults().
        final Path dumps = Files.createDirectory(tmp.resolve("dumps"));
        final int files = 400;
        for (int f = 0; f < files; f++) {
            try (FileChannel channel = FileChannel.open(
                dumps.resolve("batch_" + f + ".safetensors"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
                io.actcache.format.SafetensorsWriter.write(channel, Map.of(), List.of(
                    new io.actcache.format.SafetensorsWriter.NamedView("resid_out_0",
                        TestData.random(DType.F32, Shape.of(1, 8), f).view()),
                    new io.actcache.format.SafetensorsWriter.NamedView("resid_mid_0",
                        TestData.random(DType.I64, Shape.of(1, 4), f + files).view())), done -> { });
            }
        }
        final Path maps = Path.of("/proc/self/maps");
        final long[] peak = {0};
        final ActivationCache cache = ActivationCache.onHeap();
        CacheImporter.importFiles(cache, List.of(dumps), ImportOptions.builder().progress((done, total) -> {
            try (Stream<String> lines = Files.lines(maps)) {
                peak[0] = Math.max(peak[0], lines.filter(line -> line.contains(dumps.toString())).count());
            } catch (final IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).build());
        assertEquals(Shape.of(files, 8), cache.get("resid_out_0").shape());
        assertTrue(cache.get("resid_mid_0").rows(files - 1, files).contentEquals(
            TestData.random(DType.I64, Shape.of(1, 4), 2 * files - 1).view()));
        assertTrue(peak[0] > 0 && peak[0] <= io.actcache.format.MappingBudget.DEFAULT_MAX_CHUNKS,
            "peak mappings of input files " + peak[0]);
    }

    @Test
    void shouldImportOnlyTensorsTheKeyPatternMatchesEntirely() {
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), OPTIONS);
             ActivationCache cache = ActivationCache.over(store)) {
            CacheImporter.importFiles(cache, List.of(batch0, batch1),
                ImportOptions.builder().keys(Pattern.compile("resid_out_[12]")).metadata(false).build());
            assertEquals(List.of("resid_out_1", "resid_out_2"), store.keys());
            assertEquals(Map.of(), store.metadata());
            final KeyNotFoundException none = assertThrows(KeyNotFoundException.class, () -> CacheImporter.importFiles(
                cache, List.of(batch0), ImportOptions.builder().keys(Pattern.compile("resid")).build()));
            assertMessage(none, batch0, "no tensor name matches the key pattern 'resid'", "resid_out_0");
        }
    }

    @Test
    void shouldImportLooseNpyFilesAsOneKeyEachNamedByTheStem() throws IOException {
        final Path a = Files.createDirectories(tmp.resolve("a"));
        final Path b = Files.createDirectories(tmp.resolve("b"));
        final Path npy = CraftedFiles.fixtures().resolve("npy/f32_v1.npy");
        Files.copy(npy, a.resolve("resid_out_3.npy"));
        Files.copy(CraftedFiles.fixtures().resolve("npy/f32_v2.npy"), b.resolve("resid_out_3.npy"));
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), OPTIONS);
             ActivationCache cache = ActivationCache.over(store)) {
            CacheImporter.importFiles(cache, List.of(a.resolve("resid_out_3.npy"), b), ImportOptions.defaults());
            assertEquals(List.of("resid_out_3"), store.keys());
            assertEquals(Shape.of(4, 3, 4), store.get("resid_out_3").shape());
            final byte[] bytes = Files.readAllBytes(npy);
            final String expected = CraftedFiles.sha256(Arrays.copyOfRange(bytes, 128, bytes.length));
            assertEquals(expected, CraftedFiles.sha256(store.get("resid_out_3").rows(0, 2)));
            assertEquals(expected, CraftedFiles.sha256(store.get("resid_out_3").rows(2, 4)), "v2 holds the same data");
        }
    }

    @Test
    void shouldRefuseMissingUnsupportedAndEmptyInputsLeavingTheStoreUnchanged() throws IOException {
        final Path store = populatedStore();
        final Path missing = tmp.resolve("missing.safetensors");
        assertMessage(expectUnchanged(store, List.of(batch0, missing), InputNotFoundException.class), missing,
            "no such file");
        final Path text = Files.writeString(tmp.resolve("acts.pt"), "pickle");
        assertMessage(expectUnchanged(store, List.of(batch0, text), UnsupportedFormatException.class), text,
            "not a .safetensors or .npy file");
        final Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertMessage(expectUnchanged(store, List.of(empty), InputNotFoundException.class), empty,
            "holds no .safetensors or .npy file");
        final Path fortran = Files.copy(CraftedFiles.fixtures().resolve("npy/f32_fortran.npy"),
            tmp.resolve("resid_out_0.npy"));
        assertMessage(expectUnchanged(store, List.of(fortran), UnsupportedFormatException.class), fortran,
            "Fortran-order");
    }

    @Test
    void shouldRefuseEveryMalformedFileAfterGoodOnesLeavingTheStoreUnchanged() throws IOException {
        final Path store = populatedStore();
        final byte[] good = Files.readAllBytes(batch1);
        final Map<String, String[]> cases = new LinkedHashMap<>();
        final Map<String, Path> files = new LinkedHashMap<>();
        files.put("truncated", write("truncated", Arrays.copyOf(good, good.length - 100)));
        cases.put("truncated", new String[] {"truncated", "'resid_out_2'"});
        files.put("beyond", write("beyond", withLength(good, 1_000_000)));
        cases.put("beyond", new String[] {"extends beyond the end of the file"});
        files.put("huge", write("huge", withLength(good, 200_000_000)));
        cases.put("huge", new String[] {"above the limit of 100000000"});
        final String json = headerOf(good);
        files.put("json", replaceHeader("json", good, json.replace("\"input_ids\":{", "\"input_ids\":{{")));
        cases.put("json", new String[] {"not valid JSON"});
        files.put("dtype", replaceHeader("dtype", good, json.replace("\"I64\"", "\"I65\"")));
        cases.put("dtype", new String[] {"'input_ids'", "unknown dtype 'I65'"});
        files.put("shape", replaceHeader("shape", good, json.replace("[2,16,64]", "[2,16,63]")));
        cases.put("shape", new String[] {"'resid_out_0'", "needs 8064 bytes", "[2304, 10496] hold 8192"});
        files.put("overlap", replaceHeader("overlap", good, json.replace("[256,2304]", "[200,2248]")));
        cases.put("overlap", new String[] {"'pattern_L0H0'", "overlap tensor 'input_ids'"});
        files.put("order", replaceHeader("order", good, json.replace("[0,256]", "[256,0]")));
        cases.put("order", new String[] {"'input_ids'", "out of order"});
        files.put("duplicate", replaceHeader("duplicate", good, json.replace("\"pattern_L0H0\":", "\"input_ids\":")));
        cases.put("duplicate", new String[] {"tensor 'input_ids' appears twice"});
        for (final Map.Entry<String, Path> entry : files.entrySet()) {
            final BadFileFormatException e =
                expectUnchanged(store, List.of(batch0, batch1, entry.getValue()), BadFileFormatException.class);
            assertMessage(e, entry.getValue(), cases.get(entry.getKey()));
        }
        final Path f8 = replaceHeader("f8", good, json.replace("\"F32\"", "\"F8_E4M3\""));
        assertMessage(expectUnchanged(store, List.of(batch0, f8), UnsupportedFormatException.class), f8,
            "dtype F8_E4M3");
    }

    @Test
    void shouldRefuseABatchWhoseKeysOrShapesDoNotFitNamingTheFileAndKey() throws IOException {
        final Path store = populatedStore();
        final Map<String, TensorView> tensors = new LinkedHashMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(batch1)) {
            file.tensors().forEach(tensors::put);
            final Path narrower = batchFile("narrower", tensors, "resid_out_1",
                TestData.random(DType.F32, Shape.of(2, 16, 32), 5).view());
            final ShapeMismatchException shape = expectUnchanged(store, List.of(batch0, batch1, narrower, batch0),
                ShapeMismatchException.class);
            assertMessage(shape, narrower, "cannot concat key 'resid_out_1'", "F32 [2, 16, 32]");
            final Path halves = batchFile("halves", tensors, "resid_out_2",
                TestData.random(DType.F16, Shape.of(2, 16, 64), 6).view());
            assertMessage(expectUnchanged(store, List.of(halves, batch0), ShapeMismatchException.class), halves,
                "'resid_out_2'", "dtype mismatch");
            final Map<String, TensorView> fewer = new LinkedHashMap<>(tensors);
            fewer.remove("resid_out_0");
            final Path missingKey = batchFile("fewer", fewer, null, null);
            assertMessage(expectUnchanged(store, List.of(batch0, missingKey), KeySetMismatchException.class),
                missingKey, "keys only in this cache [resid_out_0]");
            final Path control = batchFile("control", tensors, "bad\u0001key", tensors.get("resid_out_0"));
            assertMessage(expectUnchanged(store, List.of(control), InvalidKeyException.class), control,
                "U+0001");
            final Path hidden = batchFile("hidden", tensors, ".actcache/sum/x", tensors.get("resid_out_0"));
            assertMessage(expectUnchanged(store, List.of(hidden), InvalidKeyException.class), hidden, ".actcache/");
        }
    }

    /** A store holding the two fixture batches, closed. */
    private Path populatedStore() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS);
             ActivationCache cache = ActivationCache.over(store)) {
            CacheImporter.importFiles(cache, List.of(batch0, batch1), ImportOptions.defaults());
        }
        return dir;
    }

    private <T extends Exception> T expectUnchanged(final Path dir, final List<Path> inputs, final Class<T> type)
        throws IOException {
        final String before = DirectorySnapshot.of(dir);
        final T thrown;
        try (ActivationStore store = ActivationStore.open(dir); ActivationCache cache = ActivationCache.over(store)) {
            final long epoch = store.epoch();
            thrown = assertThrows(type, () -> CacheImporter.importFiles(cache, inputs, ImportOptions.defaults()));
            assertEquals(epoch, store.epoch(), "no commit");
            assertEquals(Shape.of(4, 16, 64), store.get("resid_out_0").shape());
        }
        assertEquals(before, DirectorySnapshot.of(dir), "store files changed");
        return thrown;
    }

    private Path batchFile(final String name, final Map<String, TensorView> tensors, final String key,
        final TensorView replacement) throws IOException {
        final List<NamedView> named = new ArrayList<>();
        tensors.forEach((k, v) -> named.add(new NamedView(k, v)));
        if (key != null) {
            named.removeIf(t -> t.name().equals(key));
            named.add(new NamedView(key, replacement));
        }
        final Path path = tmp.resolve(name + ".safetensors");
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            SafetensorsWriter.write(channel, Map.of(), named, bytes -> { });
        }
        return path;
    }

    private String sha(final String file, final String tensor) {
        return manifest.get(file).get(tensor).get("sha256").asText();
    }

    private Path write(final String name, final byte[] bytes) throws IOException {
        return Files.write(tmp.resolve(name + ".safetensors"), bytes);
    }

    private static byte[] withLength(final byte[] file, final long length) {
        final byte[] copy = file.clone();
        java.nio.ByteBuffer.wrap(copy).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, length);
        return copy;
    }

    private static String headerOf(final byte[] file) {
        final long length = java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        return new String(file, 8, (int) length, StandardCharsets.UTF_8);
    }

    /** The file with its JSON header replaced by {@code json} (same data). */
    private Path replaceHeader(final String name, final byte[] file, final String json) throws IOException {
        final int length = (int) java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        return CraftedFiles.safetensors(tmp.resolve(name + ".safetensors"), json,
            Arrays.copyOfRange(file, 8 + length, file.length));
    }

    private static void assertMessage(final Exception e, final Path file, final String... parts) {
        final String message = e.getMessage();
        assertTrue(message.startsWith(file + ": "), "names the file first: " + message);
        assertTrue(!message.contains("\n"), "one line: " + message);
        for (final String part : parts) {
            assertTrue(message.contains(part), "message should contain '" + part + "': " + message);
        }
    }
}
